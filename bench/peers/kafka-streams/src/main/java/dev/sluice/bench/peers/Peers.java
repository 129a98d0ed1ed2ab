package dev.sluice.bench.peers;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The Kafka Streams side of {@code sluice bench peers}: one long-lived JVM (so the JIT stays
 * warm across the harness's rounds, as Node's does) that reads commands on stdin and prints
 * one JSON line per run on stdout.
 *
 * <p>Usage: {@code java -cp <cp> dev.sluice.bench.peers.Peers <bootstrap> <nexmark union schema JSON>}.
 * Command: {@code run <query> <topic> <events> <bids> <applicationId> <collect 0|1>}, where
 * query is {@code count} (bids per auction, 10 s tumbling), {@code q5} (hot items, 10 s / 2 s
 * hopping) or {@code q7} (highest bid, 10 s tumbling). A run starts a fresh KafkaStreams
 * instance (new application id, so it reads the topic from the beginning), times the first
 * input record to the last record the query's last keyed step saw, closes the instance
 * (which flushes the caches, so every closed window is emitted) and prints
 * {@code {"query":..,"seconds":..,"outputs":..,"rows":[[..],..]}}. Windows are final results
 * ({@code suppress(untilWindowCloses)}, grace 0), like Sluice's.
 */
public final class Peers {
  private static final Duration SIZE = Duration.ofSeconds(10);
  private static final Duration SLIDE = Duration.ofSeconds(2);

  private Peers() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: Peers <bootstrap> <nexmark union schema JSON>");
      System.exit(2);
    }
    String bootstrap = args[0];
    Schema schema = new Schema.Parser().parse(args[1]);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    System.out.println("{\"ready\":true}");
    System.out.flush();
    String line;
    while ((line = in.readLine()) != null) {
      String[] c = line.trim().split(" ");
      if (c.length == 0 || c[0].isEmpty()) continue;
      try {
        if (!c[0].equals("run") || c.length != 7)
          throw new IllegalArgumentException("unknown command: " + line);
        String out =
            run(bootstrap, schema, c[1], c[2], Long.parseLong(c[3]), Long.parseLong(c[4]), c[5], c[6].equals("1"));
        System.out.println(out);
      } catch (Exception e) {
        System.out.println("{\"error\":" + quote(e.toString()) + "}");
      }
      System.out.flush();
    }
  }

  /** Counts what a run's last step saw; done when it saw {@code expected}. */
  static final class Progress {
    final long expected;
    final AtomicLong seen = new AtomicLong();
    volatile long firstNs = 0;
    volatile long lastNs = 0;
    final CountDownLatch done = new CountDownLatch(1);

    Progress(long expected) {
      this.expected = expected;
    }

    void first() {
      if (firstNs == 0) firstNs = System.nanoTime();
    }

    void tick() {
      if (seen.incrementAndGet() == expected) {
        lastNs = System.nanoTime();
        done.countDown();
      }
    }
  }

  static String run(
      String bootstrap, Schema schema, String query, String topic, long events, long bids, String appId, boolean collect)
      throws Exception {
    Serde<GenericRecord> eventSerde = new AvroSerde(schema);
    List<long[]> rows = new ArrayList<>();
    AtomicLong outputs = new AtomicLong();
    java.util.function.Consumer<long[]> out =
        r -> {
          outputs.incrementAndGet();
          if (collect) synchronized (rows) {
            rows.add(r);
          }
        };
    // The last step of each query sees every bid once: that is the end of a run.
    Progress progress = new Progress(bids);
    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, GenericRecord> source =
        builder.stream(topic, Consumed.with(Serdes.String(), eventSerde)).peek((k, v) -> progress.first());
    KStream<String, GenericRecord> bidStream = source.filter((k, v) -> isBid(v));
    switch (query) {
      case "count" ->
          bidStream
              .peek((k, v) -> progress.tick())
              .groupByKey(Grouped.with(Serdes.String(), eventSerde))
              .windowedBy(TimeWindows.ofSizeAndGrace(SIZE, Duration.ZERO))
              .count()
              .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
              .toStream()
              .foreach((wk, n) -> out.accept(new long[] {wk.window().start(), Long.parseLong(wk.key()), n}));
      case "q5" ->
          bidStream
              .peek((k, v) -> progress.tick())
              .groupByKey(Grouped.with(Serdes.String(), eventSerde))
              .windowedBy(TimeWindows.ofSizeAndGrace(SIZE, Duration.ZERO).advanceBy(SLIDE))
              .count()
              .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
              .toStream()
              .process(() -> new HotItems(out));
      case "q7" ->
          bidStream
              .selectKey((k, v) -> "all")
              .repartition(Repartitioned.with(Serdes.String(), eventSerde))
              .peek((k, v) -> progress.tick())
              .groupByKey(Grouped.with(Serdes.String(), eventSerde))
              .windowedBy(TimeWindows.ofSizeAndGrace(SIZE, Duration.ZERO))
              .aggregate(
                  MaxBids::new,
                  (k, v, acc) -> acc.add(v),
                  Materialized.<String, MaxBids, WindowStore<Bytes, byte[]>>with(Serdes.String(), new MaxBidsSerde()))
              .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
              .toStream()
              .foreach(
                  (wk, acc) -> {
                    for (long[] b : acc.bids) out.accept(new long[] {wk.window().start(), b[0], b[2], b[1], b[3]});
                  });
      default -> throw new IllegalArgumentException("unknown query " + query + " (count, q5, q7)");
    }
    Path stateDir = Files.createTempDirectory("sluice-peer-");
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    KafkaStreams streams = new KafkaStreams(builder.build(), p);
    long cpu0 = cpuNanos();
    streams.start();
    long timeoutS = 600;
    boolean finished = progress.done.await(timeoutS, TimeUnit.SECONDS);
    long cpu = cpuNanos() - cpu0;
    streams.close(Duration.ofSeconds(60));
    streams.cleanUp();
    deleteTree(stateDir);
    if (!finished)
      throw new IllegalStateException(
          query + ": saw " + progress.seen.get() + " of " + bids + " bids in " + timeoutS + " s");
    StringBuilder sb = new StringBuilder();
    sb.append("{\"query\":\"").append(query).append("\",\"events\":").append(events);
    sb.append(",\"seconds\":").append((progress.lastNs - progress.firstNs) / 1e9);
    sb.append(",\"cpuSeconds\":").append(cpu / 1e9);
    sb.append(",\"outputs\":").append(outputs.get()).append(",\"rows\":[");
    synchronized (rows) {
      for (int i = 0; i < rows.size(); i++) {
        if (i > 0) sb.append(',');
        sb.append('[');
        long[] r = rows.get(i);
        for (int j = 0; j < r.length; j++) {
          if (j > 0) sb.append(',');
          sb.append(r[j]);
        }
        sb.append(']');
      }
    }
    return sb.append("]}").toString();
  }

  /** CPU time of the whole JVM (every thread: stream thread, clients, GC). */
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  static boolean isBid(GenericRecord v) {
    return ((Integer) v.get(0)) == 2;
  }

  /**
   * q5's second step: per window, the auctions with the most bids (all ties). Suppress emits
   * final window counts in window-end order, so a count for a later window means every
   * earlier window is complete. One partition, so no repartition by window is needed.
   */
  static final class HotItems implements Processor<Windowed<String>, Long, Void, Void> {
    private final java.util.function.Consumer<long[]> out;
    private final TreeMap<Long, long[]> max = new TreeMap<>();
    private final TreeMap<Long, List<Long>> ties = new TreeMap<>();

    HotItems(java.util.function.Consumer<long[]> out) {
      this.out = out;
    }

    @Override
    public void process(Record<Windowed<String>, Long> r) {
      long start = r.key().window().start();
      while (!max.isEmpty() && max.firstKey() < start) emit(max.firstKey());
      long[] m = max.get(start);
      long n = r.value();
      long auction = Long.parseLong(r.key().key());
      if (m == null || n > m[0]) {
        max.put(start, new long[] {n});
        List<Long> l = new ArrayList<>();
        l.add(auction);
        ties.put(start, l);
      } else if (n == m[0]) ties.get(start).add(auction);
    }

    private void emit(long start) {
      long n = max.remove(start)[0];
      for (long a : ties.remove(start)) out.accept(new long[] {start, a, n});
    }
  }

  /** q7's aggregate: the highest price of a window and every bid at it (auction, bidder, price, dateTime). */
  static final class MaxBids {
    long max = Long.MIN_VALUE;
    List<long[]> bids = new ArrayList<>();

    MaxBids add(GenericRecord b) {
      long price = (Long) b.get("price");
      long[] row = {(Long) b.get("auction"), (Long) b.get("bidder"), price, (Long) b.get("dateTime")};
      if (price > max) {
        max = price;
        bids = new ArrayList<>();
        bids.add(row);
      } else if (price == max) bids.add(row);
      return this;
    }
  }

  static final class MaxBidsSerde implements Serde<MaxBids> {
    @Override
    public Serializer<MaxBids> serializer() {
      return (topic, m) -> {
        try {
          ByteArrayOutputStream bytes = new ByteArrayOutputStream();
          DataOutputStream o = new DataOutputStream(bytes);
          o.writeLong(m.max);
          o.writeInt(m.bids.size());
          for (long[] b : m.bids) for (long x : b) o.writeLong(x);
          return bytes.toByteArray();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      };
    }

    @Override
    public Deserializer<MaxBids> deserializer() {
      return (topic, data) -> {
        try {
          DataInputStream i = new DataInputStream(new java.io.ByteArrayInputStream(data));
          MaxBids m = new MaxBids();
          m.max = i.readLong();
          int n = i.readInt();
          for (int k = 0; k < n; k++) m.bids.add(new long[] {i.readLong(), i.readLong(), i.readLong(), i.readLong()});
          return m;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      };
    }
  }

  /** The topic's values: plain Avro binary of the union [Person, Auction, Bid] (bench/nexmark/avro.ts). */
  static final class AvroSerde implements Serde<GenericRecord> {
    private final Schema schema;

    AvroSerde(Schema schema) {
      this.schema = schema;
    }

    @Override
    public Serializer<GenericRecord> serializer() {
      GenericDatumWriter<GenericRecord> writer = new GenericDatumWriter<>(schema);
      return (topic, r) -> {
        try {
          ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
          BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(bytes, null);
          writer.write(r, enc);
          enc.flush();
          return bytes.toByteArray();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      };
    }

    @Override
    public Deserializer<GenericRecord> deserializer() {
      GenericDatumReader<GenericRecord> reader = new GenericDatumReader<>(schema);
      BinaryDecoder[] reuse = new BinaryDecoder[1];
      return (topic, data) -> {
        try {
          reuse[0] = DecoderFactory.get().binaryDecoder(data, reuse[0]);
          return reader.read(null, reuse[0]);
        } catch (IOException e) {
          throw new UncheckedIOException("nexmark value is not Avro of the union [Person, Auction, Bid]", e);
        }
      };
    }
  }

  static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"";
  }

  static void deleteTree(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path f : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
    }
  }
}

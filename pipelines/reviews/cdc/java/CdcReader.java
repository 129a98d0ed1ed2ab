package dev.sluice.cdc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.cassandra.config.DatabaseDescriptor;
import org.apache.cassandra.cql3.statements.schema.CreateTableStatement;
import org.apache.cassandra.db.Mutation;
import org.apache.cassandra.db.commitlog.CommitLogDescriptor;
import org.apache.cassandra.db.commitlog.CommitLogPosition;
import org.apache.cassandra.db.commitlog.CommitLogReadHandler;
import org.apache.cassandra.db.commitlog.CommitLogReader;
import org.apache.cassandra.db.marshal.AbstractType;
import org.apache.cassandra.db.marshal.CompositeType;
import org.apache.cassandra.db.partitions.PartitionUpdate;
import org.apache.cassandra.db.rows.Row;
import org.apache.cassandra.io.util.File;
import org.apache.cassandra.schema.ColumnMetadata;
import org.apache.cassandra.schema.KeyspaceMetadata;
import org.apache.cassandra.schema.KeyspaceParams;
import org.apache.cassandra.schema.Keyspaces;
import org.apache.cassandra.schema.Schema;
import org.apache.cassandra.schema.TableId;
import org.apache.cassandra.schema.TableMetadata;
import org.apache.cassandra.schema.Tables;

/**
 * Reads Cassandra CDC segments (cdc_raw) with cassandra-all's CommitLogReader and prints one JSON
 * line per partition update of a watched table to stdout. Stateless about progress: the Node relay
 * records positions, passes the start segment, and deletes segments once their events are
 * committed.
 *
 * <p>stdin, one JSON object per line: {"cmd":"table","keyspace":k,"cql":"CREATE TABLE ... WITH ID
 * = ..."} registers a table (the output of DESCRIBE TABLE ... WITH INTERNALS); {"cmd":"start",
 * "fromSegment":n,"pollMs":m} starts polling. Closing stdin stops the reader.
 *
 * <p>stdout: {"type":"ready","cdcRaw":dir}, then {"type":"change",...} and {"type":"segment-end",
 * "segmentId":n} once a COMPLETED segment has been read to its end. Errors: {"type":"error"}.
 */
public final class CdcReader {
  private static final Pattern IDX = Pattern.compile("CommitLog-(\\d+)-(\\d+)_cdc\\.idx");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final PrintStream OUT =
      new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, StandardCharsets.UTF_8);

  private final Set<TableId> watched = new HashSet<>();
  /** Per segment id: end offset of the last entry handed over (entries at or before are skipped). */
  private final Map<Long, Integer> readUpTo = new HashMap<>();
  private final Set<Long> finished = new HashSet<>();
  private long fromSegment = Long.MIN_VALUE;

  public static void main(String[] args) throws Exception {
    // Quiet: logs go to stderr, stdout carries JSON only.
    System.setOut(new PrintStream(System.err, true, StandardCharsets.UTF_8));
    DatabaseDescriptor.toolInitialization();
    new CdcReader().run();
  }

  private void run() throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    long pollMs = 250;
    for (String line; (line = in.readLine()) != null; ) {
      if (line.isBlank()) continue;
      JsonNode cmd = JSON.readTree(line);
      String name = cmd.path("cmd").asText();
      if (name.equals("table")) {
        registerTable(cmd.path("keyspace").asText(), cmd.path("cql").asText());
      } else if (name.equals("start")) {
        fromSegment = cmd.path("fromSegment").asLong(Long.MIN_VALUE);
        pollMs = cmd.path("pollMs").asLong(250);
        break;
      }
    }
    ObjectNode ready = JSON.createObjectNode();
    ready.put("type", "ready");
    ready.put("cdcRaw", DatabaseDescriptor.getCDCLogLocation());
    emit(ready);
    Thread stdinWatch =
        new Thread(
            () -> {
              try {
                while (in.readLine() != null) {
                  // only EOF matters
                }
              } catch (IOException ignored) {
                // parent gone
              }
              System.exit(0);
            },
            "stdin-eof");
    stdinWatch.setDaemon(true);
    stdinWatch.start();
    Path dir = Path.of(DatabaseDescriptor.getCDCLogLocation());
    for (; ; ) {
      pollOnce(dir);
      Thread.sleep(pollMs);
    }
  }

  private void registerTable(String keyspace, String cql) {
    TableMetadata table = CreateTableStatement.parse(cql, keyspace).build();
    Schema.instance.transform(
        (Keyspaces current) -> {
          KeyspaceMetadata ks = current.getNullable(keyspace);
          if (ks == null) ks = KeyspaceMetadata.create(keyspace, KeyspaceParams.simple(1), Tables.none());
          Tables tables = ks.tables.getNullable(table.name) == null ? ks.tables.with(table) : ks.tables.withSwapped(table);
          return current.withAddedOrUpdated(ks.withSwapped(tables));
        });
    watched.add(table.id);
  }

  private void pollOnce(Path dir) throws IOException {
    TreeMap<Long, Path> segments = new TreeMap<>();
    try (var files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Matcher m = IDX.matcher(p.getFileName().toString());
        if (m.matches()) {
          long id = Long.parseLong(m.group(2));
          if (id >= fromSegment && !finished.contains(id)) segments.put(id, p);
        }
      }
    }
    for (Map.Entry<Long, Path> e : segments.entrySet()) {
      long id = e.getKey();
      List<String> idx;
      try {
        idx = Files.readAllLines(e.getValue(), StandardCharsets.UTF_8);
      } catch (NoSuchFileException gone) {
        continue;
      }
      if (idx.isEmpty() || idx.get(0).isBlank()) return; // being rewritten: next poll
      int synced = Integer.parseInt(idx.get(0).trim());
      boolean completed = idx.size() > 1 && idx.get(1).trim().equals("COMPLETED");
      int from = readUpTo.getOrDefault(id, 0);
      String logName = e.getValue().getFileName().toString().replace("_cdc.idx", ".log");
      File log = new File(dir.resolve(logName).toString());
      if (synced > from) {
        Handler handler = new Handler(id, from, synced, completed);
        new CommitLogReader()
            .readCommitLogSegment(handler, log, new CommitLogPosition(id, from), CommitLogReader.ALL_MUTATIONS, !completed);
        if (handler.failed) return; // partially written section: read again next poll
        readUpTo.put(id, Math.max(from, handler.lastEnd));
        OUT.flush();
      }
      if (!completed) return; // later segments wait: order across segments is kept
      finished.add(id);
      ObjectNode end = JSON.createObjectNode();
      end.put("type", "segment-end");
      end.put("segmentId", id);
      emit(end);
    }
  }

  private static void emit(ObjectNode node) {
    try {
      OUT.println(JSON.writeValueAsString(node));
      OUT.flush();
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
  }

  private final class Handler implements CommitLogReadHandler {
    final long segmentId;
    final int after;
    final int synced;
    final boolean completed;
    int lastEnd;
    boolean failed;

    Handler(long segmentId, int after, int synced, boolean completed) {
      this.segmentId = segmentId;
      this.after = after;
      this.synced = synced;
      this.completed = completed;
      this.lastEnd = after;
    }

    @Override
    public boolean shouldSkipSegmentOnError(CommitLogReadException e) {
      report(e);
      return true;
    }

    @Override
    public void handleUnrecoverableError(CommitLogReadException e) {
      report(e);
    }

    private void report(CommitLogReadException e) {
      failed = true;
      if (!completed) return; // the tail past the synced offset may be half written
      ObjectNode err = JSON.createObjectNode();
      err.put("type", "error");
      err.put("segmentId", segmentId);
      err.put("message", String.valueOf(e.getMessage()));
      emit(err);
    }

    @Override
    public void handleMutation(Mutation m, int size, int entryLocation, CommitLogDescriptor desc) {
      if (entryLocation <= after || entryLocation > synced) return;
      lastEnd = Math.max(lastEnd, entryLocation);
      int index = 0;
      for (PartitionUpdate pu : m.getPartitionUpdates()) {
        TableMetadata t = pu.metadata();
        if (!watched.contains(t.id)) continue;
        ObjectNode ev = JSON.createObjectNode();
        ev.put("type", "change");
        ev.put("keyspace", t.keyspace);
        ev.put("table", t.name);
        ObjectNode key = ev.putObject("key");
        ByteBuffer raw = pu.partitionKey().getKey();
        List<ColumnMetadata> pk = new ArrayList<>(t.partitionKeyColumns());
        ByteBuffer[] parts =
            pk.size() == 1 ? new ByteBuffer[] {raw} : ((CompositeType) t.partitionKeyType).split(raw);
        for (int i = 0; i < pk.size(); i++) {
          AbstractType<?> type = pk.get(i).type;
          key.put(pk.get(i).name.toString(), type.getString(parts[i]));
        }
        boolean delete = !pu.partitionLevelDeletion().isLive() || pu.deletionInfo().hasRanges();
        for (Row row : pu) {
          if (!row.deletion().isLive()) delete = true;
        }
        long writetime =
            pu.partitionLevelDeletion().isLive() ? pu.maxTimestamp() : pu.partitionLevelDeletion().markedForDeleteAt();
        ev.put("op", delete ? "delete" : "upsert");
        ev.put("writetimeMicros", writetime);
        ev.put("segmentId", segmentId);
        ev.put("offset", entryLocation);
        ev.put("index", index++);
        try {
          OUT.println(JSON.writeValueAsString(ev));
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }
    }
  }
}

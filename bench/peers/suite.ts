import kafkajs from "kafkajs";
import type { Suite, Workload } from "../harness.js";
import type { NexmarkQuery } from "../nexmark/common.js";
import type { NexmarkTopic } from "../nexmark/kafka.js";
import {
  bareKafkajsLoop,
  dropKafka,
  fillNexmarkTopic,
  runKafkaQuery,
  unique,
} from "../nexmark/kafka.js";
import type { GeneratorOptions } from "../nexmark/generator.js";
import { defaultGeneratorOptions } from "../nexmark/generator.js";
import type { HighestBid, HotItem } from "../nexmark/windows.js";
import { q5, q7, Q7_SIZE_MS } from "../nexmark/windows.js";
import type { PeerBuild, PeerQuery, PeerRun } from "./kafka-streams.js";
import { buildKafkaStreamsPeer, KafkaStreamsPeer } from "./kafka-streams.js";
import type { AuctionCount } from "./windowed-count.js";
import { windowedCount } from "./windowed-count.js";

export interface PeersOptions {
  readonly brokers: readonly string[];
  /** Events on the topic; every run of every workload reads all of them. */
  readonly events: number;
  readonly generator: GeneratorOptions;
}

export const defaultPeersBench = {
  events: 500_000,
  generator: defaultGeneratorOptions,
} as const;

/** The queries both systems run, with Sluice's version and how its rows read as the peer's. */
export const PEER_QUERIES: readonly {
  readonly name: PeerQuery;
  readonly what: string;
  readonly sluice: () => NexmarkQuery<unknown>;
  /** A Sluice row as the peer prints it (see `PeerRun.rows`). */
  readonly asPeerRow: (row: never) => readonly number[];
  /** Window end of a peer row: rows of windows ending after the input's last event are left out. */
  readonly windowEnd: (row: readonly number[]) => number;
}[] = [
  {
    name: "count",
    what: "bids per auction, TUMBLE 10 s",
    sluice: windowedCount,
    asPeerRow: (r: AuctionCount) => [r.windowStart, r.auction, r.count],
    windowEnd: (r) => r[0]! + 10_000,
  },
  {
    name: "q5",
    what: "Nexmark q5 hot items, HOP 10 s / 2 s",
    sluice: q5,
    asPeerRow: (r: HotItem) => [r.windowStart, r.auction, r.num],
    windowEnd: (r) => r[0]! + 10_000,
  },
  {
    name: "q7",
    what: "Nexmark q7 highest bid, TUMBLE 10 s",
    sluice: q7,
    asPeerRow: (r: HighestBid) => [
      r.dateTime - (r.dateTime % Q7_SIZE_MS),
      r.auction,
      r.price,
      r.bidder,
      r.dateTime,
    ],
    windowEnd: (r) => r[0]! + Q7_SIZE_MS,
  },
];

/**
 * Rows both systems must agree on, canonical and sorted: those of windows that closed before
 * the input's end in both (end ≤ the last event's time minus one slide, since Kafka Streams
 * only emits a window once stream time passes it and its q5 step emits a window once the
 * next one starts; Sluice also closes the open windows when the input ends).
 */
export function comparableRows(
  query: PeerQuery,
  rows: readonly (readonly number[])[],
  lastTimestamp: number,
): string[] {
  const spec = PEER_QUERIES.find((q) => q.name === query)!;
  return rows
    .filter((r) => spec.windowEnd(r) <= lastTimestamp - 2_000)
    .map((r) => r.join(","))
    .sort();
}

/** Deletes the internal topics (changelogs, repartitions) of Kafka Streams application ids. */
export async function dropPeerTopics(
  brokers: readonly string[],
  applicationIds: readonly string[],
): Promise<void> {
  if (applicationIds.length === 0) return;
  const admin = new kafkajs.Kafka({
    brokers: [...brokers],
    clientId: "bench-peers-cleanup",
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) =>
      applicationIds.some((id) => t.startsWith(`${id}-`)),
    );
    if (topics.length > 0)
      await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.deleteGroups([...applicationIds]).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

/** The JVM, the filled topic and everything to remove at the end, shared by the workloads. */
export class PeerBench {
  readonly topic = `bench-peers-${unique()}`;
  readonly groups: string[] = [];
  readonly applicationIds: string[] = [];
  build: PeerBuild | undefined;
  peer: KafkaStreamsPeer | undefined;
  filled: NexmarkTopic | undefined;
  /** JVM CPU seconds of the last run of each peer query. */
  readonly peerCpu = new Map<string, number>();

  constructor(private readonly o: PeersOptions) {}

  group(label: string): string {
    const g = `bench-peers-${label}-${unique()}`;
    this.groups.push(g);
    return g;
  }

  async setup(): Promise<void> {
    this.build = await buildKafkaStreamsPeer();
    if (this.build.buildSeconds > 0)
      console.log(
        `peers: built the Kafka Streams peer with Maven in ${this.build.buildSeconds.toFixed(1)} s`,
      );
    this.peer = await KafkaStreamsPeer.start(this.build, this.o.brokers);
    this.filled = await fillNexmarkTopic(
      this.o.brokers,
      this.topic,
      this.o.events,
      { generator: this.o.generator },
    );
  }

  async teardown(): Promise<void> {
    await this.peer?.close();
    await dropPeerTopics(this.o.brokers, this.applicationIds);
    await dropKafka(this.o.brokers, [this.topic], this.groups);
  }

  /** One Kafka Streams run over the whole topic. */
  runPeer(query: PeerQuery, collect = false): Promise<PeerRun> {
    if (this.peer === undefined || this.filled === undefined)
      throw new Error("peers: setup() did not run");
    const applicationId = `bench-peer-${query}-${unique()}`;
    this.applicationIds.push(applicationId);
    return this.peer
      .run({
        query,
        topic: this.topic,
        events: this.filled.events,
        bids: this.filled.bids,
        applicationId,
        collect,
      })
      .then((r) => {
        this.peerCpu.set(query, r.cpuSeconds);
        return r;
      });
  }
}

/**
 * `sluice bench peers`: the windowed count and Nexmark q5/q7 on Kafka Streams (Java, a
 * long-lived JVM) and on Sluice (kafkaSource over kafkajs), both reading the same
 * one-partition topic on the same broker from the beginning, beside a bare kafkajs loop
 * (the floor). Reports each Sluice/peer ratio; the goal (issue 10) is the windowed count ≥
 * Kafka Streams'.
 */
export function peersSuite(o: PeersOptions): Suite {
  const bench = new PeerBench(o);
  const floor: Workload = {
    name: "kafkajs loop (bare)",
    records: o.events,
    note: "kafkajs eachBatch with the fetch sizes of Sluice's source (8 MiB per partition), Avro decode per value: the floor any Node Kafka job pays",
    run: () =>
      bareKafkajsLoop(o.brokers, bench.topic, o.events, bench.group("floor")),
  };
  const driverDefaults: Workload = {
    name: "kafkajs loop (1 MiB fetches)",
    records: o.events,
    note: "the same loop with kafkajs' own fetch size (1 MiB per partition): what a hand-written consumer gets by default",
    run: () =>
      bareKafkajsLoop(
        o.brokers,
        bench.topic,
        o.events,
        bench.group("floor-1mib"),
        "kafkajs",
      ),
  };
  const workloads: Workload[] = [floor, driverDefaults];
  for (const q of PEER_QUERIES) {
    workloads.push({
      name: `kafka streams ${q.name}`,
      records: o.events,
      get note() {
        const cpu = bench.peerCpu.get(q.name);
        return `Kafka Streams 4.1.1 DSL, 1 stream thread, at-least-once, default caching: ${q.what} (CPU: the whole JVM${cpu === undefined ? "" : `, ${cpu.toFixed(2)} s in the last run`})`;
      },
      run: async () => {
        const r = await bench.runPeer(q.name);
        return { seconds: r.seconds, cpuSeconds: r.cpuSeconds };
      },
    });
    workloads.push({
      name: `sluice ${q.name}`,
      records: o.events,
      note: `kafkaSource (kafkajs) → ${q.what}`,
      run: async () => {
        const r = await runKafkaQuery(q.sluice(), {
          brokers: o.brokers,
          topic: bench.topic,
          events: o.events,
          group: bench.group(q.name),
        });
        return { seconds: r.seconds };
      },
    });
  }
  return {
    name: "peers",
    baseline: floor.name,
    workloads,
    comparisons: PEER_QUERIES.map((q) => ({
      workload: `sluice ${q.name}`,
      versus: `kafka streams ${q.name}`,
      ...(q.name === "count" ? { minRatio: 1 } : {}),
    })),
    setup: () => bench.setup(),
    teardown: () => bench.teardown(),
  };
}

import {
  kafkaAdmin,
  kafkaSink,
  kafkaSource,
} from "../../connectors/kafka/index.js";
import {
  memorySink,
  memorySource,
  type MemoryLog,
} from "../../connectors/memory/index.js";
import type { OutgoingRecord, Sink, Source } from "../../connectors/types.js";
import type { CheckpointStore } from "../../connectors/checkpoint-store.js";
import type { StateBackend } from "../../operators/state-backend.js";
import { CheckpointCoordinator } from "../../runtime/checkpoint.js";
import { SluiceError } from "../../operators/sluice-error.js";
import { TOPICS, type Topic } from "./events.js";

/** Options of {@link EshopBus.source}. */
export interface BusSourceOptions {
  readonly maxInFlight?: number;
  readonly clientId?: string;
}

/**
 * Where the e-shop's topics live: the embedded {@link MemoryLog} or Kafka. Every record is
 * Avro bytes with an event-type header; logical topic names get the bus's prefix, so tests
 * and demos can run side by side.
 */
export interface EshopBus {
  readonly kind: "memory" | "kafka";
  readonly partitions: number;
  /** Physical name of a logical topic. */
  topic(logical: Topic): string;
  /** Logical name of a physical topic (undefined for a foreign one). */
  logical(physical: string): Topic | undefined;
  /** Creates every topic (idempotent); dead letters get one partition. */
  createTopics(): Promise<void>;
  /** A consumer-group member reading raw bytes. */
  source(
    group: string,
    topics: readonly Topic[],
    options?: BusSourceOptions,
  ): Source<Buffer>;
  /** A producer; records name their (physical) topic. */
  sink(): Sink<Buffer>;
  /** Deletes the topics (tests). */
  deleteTopics(): Promise<void>;
}

function namer(prefix: string): Pick<EshopBus, "topic" | "logical"> {
  const byPhysical = new Map(TOPICS.map((t) => [`${prefix}${t}`, t]));
  return {
    topic: (t) => `${prefix}${t}`,
    logical: (p) => byPhysical.get(p),
  };
}

/** The embedded bus on a {@link MemoryLog}. */
export function memoryBus(
  log: MemoryLog,
  options: { readonly partitions?: number; readonly prefix?: string } = {},
): EshopBus {
  const partitions = options.partitions ?? 4;
  const names = namer(options.prefix ?? "");
  return {
    kind: "memory",
    partitions,
    ...names,
    createTopics: () => {
      for (const t of TOPICS)
        log.createTopic(names.topic(t), {
          partitions: t === "eshop-dead-letters" ? 1 : partitions,
        });
      return Promise.resolve();
    },
    source: (group, topics, o = {}) =>
      memorySource<Buffer>(log, {
        group,
        topics: topics.map(names.topic),
        commitIntervalMs: 200,
        ...(o.maxInFlight !== undefined ? { maxInFlight: o.maxInFlight } : {}),
        ...(o.clientId !== undefined ? { clientId: o.clientId } : {}),
      }),
    sink: () => memorySink<Buffer>(log, {}),
    deleteTopics: () => Promise.resolve(),
  };
}

/** The e-shop on Kafka (kafkajs by default). */
export function kafkaBus(options: {
  readonly brokers: readonly string[];
  readonly partitions?: number;
  readonly prefix?: string;
  readonly client?: "kafkajs" | "confluent";
}): EshopBus {
  const partitions = options.partitions ?? 4;
  const names = namer(options.prefix ?? "");
  const brokers = options.brokers;
  const client = options.client ?? "kafkajs";
  return {
    kind: "kafka",
    partitions,
    ...names,
    async createTopics() {
      const admin = kafkaAdmin({ brokers, client });
      try {
        await admin.createTopics(
          TOPICS.map((t) => ({
            topic: names.topic(t),
            partitions: t === "eshop-dead-letters" ? 1 : partitions,
          })),
        );
      } finally {
        await admin.close();
      }
    },
    source: (group, topics, o = {}) =>
      kafkaSource<Buffer>({
        brokers,
        client,
        group,
        topics: topics.map(names.topic),
        decode: (bytes) => bytes,
        deadLetterTopic: names.topic("eshop-dead-letters"),
        commitIntervalMs: 500,
        sessionTimeoutMs: 6_000,
        rebalanceTimeoutMs: 10_000,
        ...(o.maxInFlight !== undefined ? { maxInFlight: o.maxInFlight } : {}),
        ...(o.clientId !== undefined ? { clientId: o.clientId } : {}),
      }),
    sink: () =>
      kafkaSink<Buffer>({
        brokers,
        client,
        encode: (bytes) => bytes,
        lingerMs: 2,
      }),
    async deleteTopics() {
      const admin = kafkaAdmin({ brokers, client });
      try {
        await admin.deleteTopics(TOPICS.map(names.topic));
      } finally {
        await admin.close();
      }
    },
  };
}

/**
 * A bus whose producers write every record twice: every event of the saga is delivered
 * twice (tests of idempotent handlers).
 */
export function duplicatingBus(bus: EshopBus): EshopBus {
  return {
    ...bus,
    sink: () => {
      const inner = bus.sink();
      return {
        name: `${inner.name}(x2)`,
        maxInFlight: inner.maxInFlight,
        connect: () => inner.connect(),
        write: (batch: readonly OutgoingRecord<Buffer>[]) =>
          inner.write([...batch, ...batch]),
        flush: () => inner.flush(),
        close: () => inner.close(),
      };
    },
  };
}

/** Options of {@link EshopWiring.addSource}: the keyed state the source feeds. */
export interface WiringSourceOptions {
  readonly state?: StateBackend;
}

/**
 * Where a service registers what it opens: a job's `JobContext` (the runtime checkpoints
 * sources registered with state), or {@link localWiring} for the demo and tests.
 */
export interface EshopWiring {
  addSource<S extends Source<unknown>>(
    source: S,
    options?: WiringSourceOptions,
  ): S;
  addSink<S extends Sink<unknown>>(sink: S): S;
  onShutdown(fn: () => Promise<void> | void): void;
}

/** A wiring that can be closed: {@link localWiring}. */
export interface LocalWiring extends EshopWiring {
  /** Takes a checkpoint of every stateful source now. */
  checkpoint(): Promise<void>;
  /** Closes like the runtime's shutdown: final checkpoints, sources, sinks, the rest. */
  close(): Promise<void>;
  /** Drops every source like a killed process: no drain, checkpoint or commit (tests). */
  kill(): Promise<void>;
}

/**
 * A wiring for one process the runtime does not run (demo, tests): checkpoints stateful
 * sources every `intervalMs` to `store` under `job`, like `ctx.addSource(source, { state })`.
 */
export function localWiring(options: {
  readonly job: string;
  readonly store: CheckpointStore;
  readonly intervalMs?: number;
}): LocalWiring {
  const sources: {
    source: Source<unknown>;
    coordinator: CheckpointCoordinator | undefined;
  }[] = [];
  const sinks: Sink<unknown>[] = [];
  const rest: (() => Promise<void> | void)[] = [];
  let closed: Promise<void> | undefined;
  return {
    addSource(source, o = {}) {
      const coordinator =
        o.state === undefined
          ? undefined
          : new CheckpointCoordinator({
              job: options.job,
              source,
              backend: o.state,
              store: options.store,
              intervalMs: options.intervalMs ?? 1_000,
              barrierTimeoutMs: 2_000,
            });
      coordinator?.start();
      sources.push({ source, coordinator });
      return source;
    },
    addSink: (s) => (sinks.push(s), s),
    onShutdown: (fn) => void rest.push(fn),
    async checkpoint() {
      await Promise.all(
        sources.map((s) =>
          s.coordinator === undefined
            ? Promise.resolve()
            : s.coordinator.checkpoint("manual").then(() => undefined),
        ),
      );
    },
    close: () =>
      (closed ??= (async () => {
        for (const s of sources) s.coordinator?.stopIntake();
        for (const s of sources) await s.coordinator?.checkpoint("shutdown");
        await Promise.all(sources.map((s) => s.source.close()));
        for (const s of sources) s.coordinator?.close();
        await Promise.all(sinks.map((s) => s.flush().then(() => s.close())));
        for (const fn of rest.reverse()) await fn();
      })()),
    kill: () =>
      (closed ??= (async () => {
        for (const s of sources) {
          s.coordinator?.close();
          const abortable = s.source as { abort?: () => Promise<void> };
          if (typeof abortable.abort === "function") await abortable.abort();
          else
            throw new SluiceError(
              "CONFIG",
              `localWiring.kill: source ${s.source.name} cannot be aborted`,
            );
        }
        await Promise.all(sinks.map((s) => s.flush().then(() => s.close())));
        for (const fn of rest.reverse()) await fn();
      })()),
  };
}

import { randomUUID } from "node:crypto";
import { MemoryLog } from "../connectors/memory/index.js";
import { memoryCheckpointStore } from "../runtime/memory-checkpoint-store.js";
import { memoryBus } from "../pipelines/eshop/bus.js";
import { driveOrders, quantile } from "../pipelines/eshop/demo.js";
import { memoryStores } from "../pipelines/eshop/stores.js";
import {
  DEFAULT_GRACE,
  PRODUCTS,
  startEshop,
} from "../pipelines/eshop/system.js";
import { openEshopStack } from "../pipelines/eshop/testing/stack-fixture.js";
import type { Endpoints } from "../stack/index.js";
import {
  kafkaConsumeSuite,
  kafkaProduceSuite,
  type KafkaBenchOptions,
} from "./connectors-kafka.js";
import type { Suite, Workload } from "./harness.js";

/** A short grace period, so the figures show the saga rather than the wait. */
const BENCH_GRACE = { ...DEFAULT_GRACE, graceMs: 50, priorityGraceMs: 10 };

/**
 * The e-shop saga (checkout → grace period → stock → payment → paid, four services and the
 * Ordering relay, seven topic hops per order) on the embedded log and on Kafka + PostgreSQL,
 * beside the broker's raw figures from the connectors suite: bare kafkajs produce
 * (**baseline**) and consume of 256-byte Avro records. Orders are placed through the API,
 * `concurrency` at a time, none cancelled, none declined, stock never short, so every order
 * ends Paid; a run is timed from the first checkout to the last order seen Paid. The p99
 * checkout → paid of the last run is in each saga's note (grace period 50 ms included).
 */
export function eshopSuite(
  env: Endpoints,
  orders: number,
  kafkaRecords: number,
): Suite {
  const kafka: KafkaBenchOptions = {
    brokers: env.kafkaBrokers,
    records: kafkaRecords,
    valueBytes: 256,
    batch: 100,
    inFlight: 8,
    partitions: 3,
    keys: 1_000,
  };
  const produce = kafkaProduceSuite(kafka);
  const consume = kafkaConsumeSuite(kafka);
  const pick = (suite: Suite, name: string): Workload => {
    const w = suite.workloads.find((x) => x.name === name);
    if (w === undefined)
      throw new Error(`bench/eshop: no workload "${name}" in ${suite.name}`);
    return w;
  };
  const concurrency = 20;
  const latency = { embedded: "", stack: "" };
  const products = PRODUCTS.map((p) => ({ ...p, stock: 1_000_000 }));

  const embedded: Workload = {
    name: "e-shop saga (embedded)",
    records: orders,
    get note() {
      return `orders through the whole saga on the memory log and stores; checkout → paid ${latency.embedded}`;
    },
    run: async () => {
      const stores = memoryStores();
      await stores.stock.upsertProducts(products);
      const eshop = await startEshop({
        bus: memoryBus(new MemoryLog(), { partitions: 4 }),
        stores,
        checkpointStore: memoryCheckpointStore(),
        grace: BENCH_GRACE,
      });
      try {
        const run = await driveOrders(eshop, stores, {
          orders,
          seed: 1,
          scarceShare: 0,
          concurrency,
        });
        check(run.toPaidMs.length, orders);
        latency.embedded = `p50 ${quantile(run.toPaidMs, 0.5)} ms, p99 ${quantile(run.toPaidMs, 0.99)} ms`;
        return { seconds: run.elapsedMs / 1_000 };
      } finally {
        await eshop.close();
      }
    },
  };

  const onStack: Workload = {
    name: "e-shop saga (Kafka + PostgreSQL)",
    records: orders,
    get note() {
      return `kafkajs, 4 partitions per topic, PostgreSQL stores and checkpoints; checkout → paid ${latency.stack}`;
    },
    run: async () => {
      const runId = `bench_eshop_${randomUUID().slice(0, 8)}`;
      const stack = await openEshopStack(env, runId, { partitions: 4 });
      try {
        await stack.stores.stock.upsertProducts(products);
        const eshop = await startEshop({
          bus: stack.bus,
          stores: stack.stores,
          checkpointStore: stack.checkpointStore,
          groupPrefix: stack.groupPrefix,
          grace: BENCH_GRACE,
        });
        try {
          const run = await driveOrders(eshop, stack.stores, {
            orders,
            seed: 1,
            scarceShare: 0,
            concurrency,
            timeoutMs: 300_000,
          });
          check(run.toPaidMs.length, orders);
          latency.stack = `p50 ${quantile(run.toPaidMs, 0.5)} ms, p99 ${quantile(run.toPaidMs, 0.99)} ms`;
          return { seconds: run.elapsedMs / 1_000 };
        } finally {
          await eshop.close();
        }
      } finally {
        await stack.close();
      }
    },
  };

  return {
    name: "eshop",
    baseline: "kafkajs send (bare)",
    workloads: [
      pick(produce, "kafkajs send (bare)"),
      pick(consume, "kafkajs eachBatch (bare)"),
      embedded,
      onStack,
    ],
    async setup() {
      await produce.setup?.();
      await consume.setup?.();
    },
    async teardown() {
      await produce.teardown?.();
      await consume.teardown?.();
    },
  };
}

function check(paid: number, orders: number): void {
  if (paid !== orders)
    throw new Error(`e-shop saga: ${paid} of ${orders} orders paid`);
}

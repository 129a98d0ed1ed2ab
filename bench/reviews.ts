import { lastValueFrom, reduce } from "rxjs";
import {
  memorySink,
  memorySource,
  MemoryLog,
} from "../connectors/memory/index.js";
import { writeTo } from "../connectors/write-to.js";
import {
  defaultChainOptions,
  runReviewsChain,
} from "../pipelines/reviews/chain.js";
import type { Suite, Workload } from "./harness.js";

/**
 * The reviews system end to end on the embedded default, beside the throughput of one job
 * hop on the same log (memory source → memory sink with ack tracking), the floor every
 * stage of the chain pays. The chain's latency (review write to recommendation update)
 * is reported in the workload's note, from the last measured run.
 */
export function reviewsSuite(reviews: number): Suite {
  const hopRecords = 200_000;
  const hop: Workload = {
    name: "one job hop (memory log)",
    records: hopRecords,
    note: "memorySource → writeTo(memorySink), every record acked and committed",
    run: async () => {
      const log = new MemoryLog();
      log.createTopic("in", { partitions: 4 });
      log.createTopic("out", { partitions: 4 });
      for (let i = 0; i < hopRecords; i++)
        log.append("in", { key: `k${i % 1000}`, value: i });
      const source = memorySource<number>(log, {
        group: "hop",
        topics: ["in"],
        maxInFlight: 10_000,
        stopAtEnd: true,
      });
      const written = await lastValueFrom(
        source.records().pipe(
          writeTo(memorySink<number>(log, { topic: "out" }), { maxBatch: 500 }),
          reduce((n, r) => n + r.count, 0),
        ),
      );
      await source.close();
      if (written !== hopRecords)
        throw new Error(`hop lost records: ${written} of ${hopRecords}`);
    },
  };
  let latency = "";
  const chain: Workload = {
    name: "reviews chain (embedded)",
    records: reviews,
    get note() {
      return `producer → review service (RPC) → CDC relay → enrichment (RPC lookups) → recommendations; write→update latency ${latency}`;
    },
    run: async () => {
      const report = await runReviewsChain({ ...defaultChainOptions, reviews });
      latency = `p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms`;
      if (!report.allCommitted)
        throw new Error("the reviews chain did not commit every offset");
      return { seconds: report.seconds };
    },
  };
  return {
    name: "reviews",
    baseline: "one job hop (memory log)",
    workloads: [hop, chain],
  };
}

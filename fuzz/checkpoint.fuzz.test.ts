import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryLog } from "../connectors/memory/log.js";
import type { CheckpointResult } from "../runtime/checkpoint.js";
import { memoryCheckpointStore } from "../runtime/memory-checkpoint-store.js";
import {
  TOPIC,
  startCountJob,
  waitUntil,
} from "../runtime/testing/count-job.js";
import { yieldToVitest } from "./harness.js";
import type { Scenario } from "./scenarios.js";
import { budget, scenarios } from "./scenarios.js";

/**
 * The checkpointed keyed count (runtime/testing/count-job.ts: memory log, keyedProcess,
 * CheckpointCoordinator, memory checkpoint store) over a generated scenario, crashed at a
 * generated point with checkpoints at generated points, restarted from its store: the
 * restarted job must end with exactly a plain per-key count of the log.
 */
async function crashAndRestore(
  s: Scenario,
  crashAtRaw: number,
  checkpointAt: readonly number[],
  slowSink: boolean,
): Promise<void> {
  const log = new MemoryLog();
  log.createTopic(TOPIC, { partitions: s.partitions });
  const reference = new Map<string, number>();
  const keys = new Set<string>();
  for (const e of s.events) {
    log.append(TOPIC, { key: e.key, value: e.id, timestamp: e.t });
    keys.add(e.key);
    reference.set(e.key, (reference.get(e.key) ?? 0) + 1);
  }
  const store = memoryCheckpointStore();
  const crashAt = crashAtRaw % (s.events.length + 1);
  const marks = new Set(checkpointAt.map((c) => c % (s.events.length + 1)));
  const sinkDelayMs = slowSink ? (n: number) => n % 3 : () => 0;

  const first = startCountJob(log, store, { sinkDelayMs });
  const checkpoints: Promise<CheckpointResult>[] = [];
  let crashing: Promise<void> | undefined;
  const crash = (): void => {
    crashing ??= first.crash();
  };
  first.onProcessed((n) => {
    if (marks.has(n)) checkpoints.push(first.coordinator.checkpoint());
    if (n === crashAt) queueMicrotask(crash);
  });
  if (crashAt === 0) crash();
  await waitUntil(() => crashing !== undefined, 20_000, "the crash");
  await crashing;
  await Promise.all(checkpoints);
  await first.coordinator.restored();

  const second = startCountJob(log, store, { sinkDelayMs });
  await second.coordinator.restored();
  await waitUntil(
    () => second.caughtUp(s.partitions),
    20_000,
    "the restarted job to commit every partition to its end",
  );
  const counts = second.counts([...keys], s.partitions);
  second.coordinator.close();
  await second.source.close();
  second.subscription.unsubscribe();
  expect(counts).toEqual(reference);
}

describe("fuzz: crash and restore through the checkpoint coordinator", () => {
  it("a keyed count crashed at any point over any scenario restores to exactly the plain count", async () => {
    await fc.assert(
      fc.asyncProperty(
        scenarios({ large: 200 }),
        fc.nat(400),
        fc.array(fc.nat(400), { maxLength: 5 }),
        fc.boolean(),
        async (s, crashAt, checkpointAt, slowSink) => {
          await yieldToVitest();
          await crashAndRestore(s, crashAt, checkpointAt, slowSink);
        },
      ),
      budget(50),
    );
  }, 120_000);
});

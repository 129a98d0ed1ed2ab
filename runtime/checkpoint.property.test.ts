import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryLog } from "../connectors/memory/log.js";
import { memoryCheckpointStore } from "./memory-checkpoint-store.js";
import type { CheckpointResult } from "./checkpoint.js";
import { TOPIC, startCountJob, waitUntil } from "./testing/count-job.js";

const KEYS = ["a", "b", "c", "d", "e", "f"];

describe("checkpoint coordinator, crash and restart (property)", () => {
  it("a keyed count killed at any point and restarted from its last checkpoint ends with exactly the reference counts", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 0, max: KEYS.length - 1 }), {
          minLength: 1,
          maxLength: 150,
        }),
        fc.array(fc.nat(150), { maxLength: 6 }),
        fc.array(fc.nat(150), { maxLength: 6 }),
        fc.nat(150),
        fc.boolean(),
        async (
          partitions,
          events,
          checkpointAt,
          commitAt,
          crashAtRaw,
          slowSink,
        ) => {
          const log = new MemoryLog();
          log.createTopic(TOPIC, { partitions });
          const reference = new Map<string, number>();
          for (const [i, k] of events.entries()) {
            const key = KEYS[k]!;
            log.append(TOPIC, { key, value: i, timestamp: i });
            reference.set(key, (reference.get(key) ?? 0) + 1);
          }
          const store = memoryCheckpointStore();
          const crashAt = crashAtRaw % (events.length + 1);
          const marks = new Set(checkpointAt);
          // The group's commits run ahead of the checkpoints (as Kafka auto-commit would).
          const commits = new Set(commitAt);
          const sinkDelayMs = slowSink ? (n: number) => n % 3 : () => 0;

          // First incarnation: checkpoints at some points, then killed mid-stream.
          const first = startCountJob(log, store, { sinkDelayMs });
          const checkpoints: Promise<CheckpointResult>[] = [];
          let crashing: Promise<void> | undefined;
          const crash = (): void => {
            crashing ??= first.crash();
          };
          first.onProcessed((n) => {
            if (marks.has(n)) checkpoints.push(first.coordinator.checkpoint());
            if (commits.has(n)) void first.source.commit();
            if (n === crashAt) queueMicrotask(crash);
          });
          if (crashAt === 0) crash();
          await waitUntil(() => crashing !== undefined, 10_000, "the crash");
          await crashing;
          await Promise.all(checkpoints);
          await first.coordinator.restored();

          // Second incarnation: restores from the store and runs to the end of the log.
          const second = startCountJob(log, store, { sinkDelayMs });
          await waitUntil(
            () => second.caughtUp(partitions),
            10_000,
            "catch-up",
          );
          await second.coordinator.restored();
          await waitUntil(
            () => second.caughtUp(partitions),
            10_000,
            "catch-up",
          );
          const counts = second.counts(KEYS, partitions);
          second.coordinator.close();
          await second.source.close();
          second.subscription.unsubscribe();
          expect(counts).toEqual(reference);
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});

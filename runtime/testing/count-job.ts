// A keyed count job on the memory log, run and crashed by the checkpoint tests.
import { filter, map, mergeMap, of, timer } from "rxjs";
import type { Subscription } from "rxjs";
import { isRecord } from "../../operators/element.js";
import { keyedProcess } from "../../operators/keyed-process.js";
import { valueState } from "../../operators/keyed-state.js";
import { memoryStateBackend } from "../../operators/memory-state-backend.js";
import { derive } from "../../operators/record.js";
import type { StateBackend } from "../../operators/state-backend.js";
import type { CheckpointStore } from "../../connectors/checkpoint-store.js";
import type { MemoryLog } from "../../connectors/memory/log.js";
import { memorySource } from "../../connectors/memory/source.js";
import type { MemorySource } from "../../connectors/memory/source.js";
import { CheckpointCoordinator } from "../checkpoint.js";

export const COUNT = valueState<number>("count");
export const TOPIC = "events";
export const GROUP = "count-job";

/** One incarnation of the count job: it lives until it is crashed or closed. */
export interface CountJob {
  readonly source: MemorySource<number>;
  readonly backend: StateBackend;
  readonly coordinator: CheckpointCoordinator;
  /** Records absorbed into state so far by this incarnation. */
  processed(): number;
  /** Calls `fn` after each absorbed record with the running total. */
  onProcessed(fn: (n: number) => void): void;
  /** Simulates `kill -9`: the member leaves the group without drain, commit or checkpoint. */
  crash(): Promise<void>;
  /** Counts per key in this incarnation's state. */
  counts(keys: readonly string[], partitions: number): Map<string, number>;
  /** True once every partition's commit point reached the log's end. */
  caughtUp(partitions: number): boolean;
  readonly subscription: Subscription;
}

/**
 * Starts the job: memory source → keyedProcess counting per key (the count goes on as a
 * derived record carrying the input's handle) → an asynchronous "sink" that acks after
 * `sinkDelayMs` (0: synchronously). The delay keeps records whose effect is already in
 * state pending, which is what the checkpoint barrier must wait for.
 */
export function startCountJob(
  log: MemoryLog,
  store: CheckpointStore,
  options: { readonly sinkDelayMs?: (n: number) => number } = {},
): CountJob {
  const backend = memoryStateBackend();
  const source = memorySource<number>(log, {
    group: GROUP,
    topics: [TOPIC],
    maxInFlight: 32,
    // Commits run ahead of checkpoints on purpose: a restore must not trust them.
    commitIntervalMs: 1,
    drainTimeoutMs: 1_000,
  });
  const coordinator = new CheckpointCoordinator({
    job: "count",
    source,
    backend,
    store,
    intervalMs: 0,
    barrierTimeoutMs: 2_000,
  });
  coordinator.start();
  let processed = 0;
  const listeners: ((n: number) => void)[] = [];
  const delay = options.sinkDelayMs ?? (() => 0);
  const subscription = source
    .records()
    .pipe(
      keyedProcess<number, number>({
        backend,
        process: (r, ctx) => {
          const s = ctx.state(COUNT);
          const n = (s.value() ?? 0) + 1;
          s.update(n);
          processed += 1;
          for (const l of listeners) l(processed);
          return derive(r, n);
        },
      }),
      filter(isRecord),
      mergeMap((r) => {
        const ms = delay(r.value);
        return ms <= 0 ? of(r) : timer(ms).pipe(map(() => r));
      }, 8),
    )
    .subscribe({ next: (r) => r.ack.ack(), error: () => undefined });
  return {
    source,
    backend,
    coordinator,
    subscription,
    processed: () => processed,
    onProcessed: (fn) => listeners.push(fn),
    async crash() {
      coordinator.close();
      const member = source.member;
      if (member !== undefined) await log.crash(member);
      subscription.unsubscribe();
    },
    counts(keys, partitions) {
      const out = new Map<string, number>();
      for (const key of keys)
        for (let p = 0; p < partitions; p++) {
          const v = backend.getValue(`${TOPIC}/${p}`, "count", key, 0);
          if (typeof v === "number") out.set(key, (out.get(key) ?? 0) + v);
        }
      return out;
    },
    caughtUp(partitions) {
      const snaps = source.snapshot();
      if (snaps.length < partitions) return false;
      return snaps.every(
        (s) =>
          (s.committed ?? log.startOffset(s.topic, s.partition)) ===
          log.endOffset(s.topic, s.partition),
      );
    },
  };
}

/** Resolves once `done()` holds, checking every millisecond; rejects after `timeoutMs`. */
export async function waitUntil(
  done: () => boolean,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

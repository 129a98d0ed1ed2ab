// A fired timer leaves the state at once, while its output is still on its way to a sink:
// the checkpoint barrier must wait for that output, or a crash loses it for good.
import { describe, expect, it } from "vitest";
import type { Subscription } from "rxjs";
import { filter } from "rxjs";
import { MemoryLog } from "../connectors/memory/log.js";
import { memorySource } from "../connectors/memory/source.js";
import { isRecord } from "../operators/element.js";
import { keyedProcess } from "../operators/keyed-process.js";
import { valueState } from "../operators/keyed-state.js";
import { memoryStateBackend } from "../operators/memory-state-backend.js";
import { record } from "../operators/record.js";
import type { Record } from "../operators/record.js";
import { CheckpointCoordinator } from "./checkpoint.js";
import type { CheckpointStore } from "../connectors/checkpoint-store.js";
import { memoryCheckpointStore } from "./memory-checkpoint-store.js";
import { waitUntil } from "./testing/count-job.js";

const TOPIC = "orders";
const GRACE = valueState<number>("grace-due");

/**
 * One incarnation of a grace-period job (the e-shop's shape): an order arms a processing-time
 * timer; when it fires the order's state is cleared and "confirmed" goes to the sink. The
 * sink acks at once, or holds every record until the test settles it.
 */
function startGraceJob(
  log: MemoryLog,
  store: CheckpointStore,
  sink: { readonly hold: boolean },
) {
  const backend = memoryStateBackend();
  const source = memorySource<string>(log, {
    group: "grace",
    topics: [TOPIC],
    commitIntervalMs: 1,
    drainTimeoutMs: 500,
  });
  const coordinator = new CheckpointCoordinator({
    job: "grace",
    source,
    backend,
    store,
    intervalMs: 0,
    barrierTimeoutMs: 300,
  });
  coordinator.start();
  let absorbed = 0;
  const written: string[] = [];
  const held: Record<string>[] = [];
  const subscription: Subscription = source
    .records()
    .pipe(
      keyedProcess<string, string>({
        backend,
        process: (_r, ctx) => {
          const due = ctx.now() + 100;
          ctx.state(GRACE).update(due);
          ctx.timers.registerProcessingTime(due);
          absorbed += 1;
        },
        onTimer: (t, ctx) => {
          ctx.state(GRACE).clear();
          return record({ key: ctx.key, value: "confirmed", timestamp: t });
        },
      }),
      filter(isRecord),
    )
    .subscribe({
      next: (r) => {
        if (sink.hold) held.push(r);
        else {
          written.push(`${r.key ?? "-"}:${r.value}`);
          r.ack.ack();
        }
      },
      // A crash ends the source with CLOSED; that is the point of the test.
      error: () => undefined,
    });
  return {
    backend,
    coordinator,
    absorbed: () => absorbed,
    written,
    held,
    async crash(): Promise<void> {
      coordinator.close();
      const member = source.member;
      if (member !== undefined) await log.crash(member);
      subscription.unsubscribe();
    },
    async close(): Promise<void> {
      coordinator.close();
      await source.close();
      subscription.unsubscribe();
    },
  };
}

const storedTimers = async (store: CheckpointStore) =>
  (await store.loadCheckpoint("grace", TOPIC, 0))?.state.timers.processing.map(
    ([key]) => key,
  );

describe("checkpoints and timer outputs", () => {
  it("a crash after a timer fired, before its output was written, still delivers the output once", async () => {
    const log = new MemoryLog();
    log.createTopic(TOPIC, { partitions: 1 });
    log.append(TOPIC, { key: "order-1", value: "submitted", timestamp: 1 });
    const store = memoryCheckpointStore();

    const first = startGraceJob(log, store, { hold: true });
    await waitUntil(() => first.absorbed() === 1, 5_000, "the order");
    await first.coordinator.restored();
    expect(await first.coordinator.checkpoint()).toMatchObject({
      saved: true,
    });
    expect(await storedTimers(store)).toEqual(["order-1"]);

    // The timer fires; its output reaches the sink, which has not written it yet.
    await waitUntil(() => first.held.length === 1, 5_000, "the timer");
    expect(first.backend.outputsInFlight?.()).toBe(1);
    // A checkpoint now would store the state without the timer: it must not be taken.
    expect(await first.coordinator.checkpoint()).toEqual({
      saved: false,
      partitions: 0,
      skipped: "barrier-timeout",
    });
    expect(await storedTimers(store)).toEqual(["order-1"]);
    await first.crash();

    // The restart restores the timer, which fires again; this time the sink writes it.
    const second = startGraceJob(log, store, { hold: false });
    await waitUntil(() => second.written.length === 1, 5_000, "the output");
    expect(second.written).toEqual(["order-1:confirmed"]);
    expect(await second.coordinator.checkpoint()).toMatchObject({
      saved: true,
    });
    expect(await storedTimers(store)).toEqual([]);
    await second.close();
  });

  it("a checkpoint waits for a timer output and is taken once the sink acks it", async () => {
    const log = new MemoryLog();
    log.createTopic(TOPIC, { partitions: 1 });
    log.append(TOPIC, { key: "order-2", value: "submitted", timestamp: 1 });
    const store = memoryCheckpointStore();
    const job = startGraceJob(log, store, { hold: true });
    await waitUntil(() => job.held.length === 1, 5_000, "the timer");
    await job.coordinator.restored();

    const pending = job.coordinator.checkpoint();
    setTimeout(() => job.held[0]!.ack.ack(), 50);
    expect(await pending).toMatchObject({ saved: true, partitions: 1 });
    expect(job.backend.outputsInFlight?.()).toBe(0);
    expect(await storedTimers(store)).toEqual([]);
    const stored = await store.loadCheckpoint("grace", TOPIC, 0);
    expect(stored?.offsets.committed).toBe(1);
    await job.close();
  });
});

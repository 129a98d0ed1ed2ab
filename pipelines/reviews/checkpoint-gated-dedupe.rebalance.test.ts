import { filter } from "rxjs";
import type { Subscription } from "rxjs";
import { afterEach, describe, expect, it } from "vitest";
import type {
  CheckpointPiece,
  CheckpointStore,
} from "../../connectors/checkpoint-store.js";
import { MemoryLog } from "../../connectors/memory/log.js";
import { memorySource } from "../../connectors/memory/source.js";
import type { MemorySource } from "../../connectors/memory/source.js";
import { dedupe } from "../../operators/dedupe.js";
import { isRecord } from "../../operators/element.js";
import { keyedProcess } from "../../operators/keyed-process.js";
import { valueState } from "../../operators/keyed-state.js";
import { memoryStateBackend } from "../../operators/memory-state-backend.js";
import { statePartitionOf } from "../../operators/state-backend.js";
import { CheckpointCoordinator } from "../../runtime/checkpoint.js";
import { memoryCheckpointStore } from "../../runtime/memory-checkpoint-store.js";
import { waitUntil } from "../../runtime/testing/count-job.js";
import {
  checkpointGatedDedupe,
  gatedId,
  recordingDedupeStore,
} from "./checkpoint-gated-dedupe.js";

// Issue 16: two instances of one group, no faults, lost every record the first one had
// processed on the partitions that moved. The old owner noticed the rebalance late (kafkajs
// learns of it at its next heartbeat): the new owner had already claimed the partitions'
// checkpoints, so the old owner's checkpoint was fenced, yet the event ids that checkpoint
// covered were written to memcached as processed; the new owner restored no checkpoint,
// replayed from offset 0 and dropped those records as duplicates. A count that is NOT
// idempotent (one per event) shows both a loss and a double count.

const TOPIC = "reviews";
const GROUP = "recommend";
const COUNT = valueState<number>("count");

interface Event {
  readonly id: string;
}

interface Instance {
  readonly source: MemorySource<Event>;
  readonly coordinator: CheckpointCoordinator;
  readonly gated: ReturnType<typeof checkpointGatedDedupe>;
  readonly subscription: Subscription;
  count(key: string, partitions: number): number;
  caughtUp(partitions: number): boolean;
}

const running: Instance[] = [];
afterEach(async () => {
  for (const i of running.splice(0)) {
    i.coordinator.close();
    i.subscription.unsubscribe();
    await i.source.close();
  }
});

function start(
  log: MemoryLog,
  store: CheckpointStore,
  far: ReturnType<typeof recordingDedupeStore>,
  unsafeConfirmBeforeCheckpoint = false,
): Instance {
  const inner = memoryStateBackend();
  const gated = checkpointGatedDedupe(far, inner, {
    unsafeConfirmBeforeCheckpoint,
  });
  const source = memorySource<Event>(log, {
    group: GROUP,
    topics: [TOPIC],
    maxInFlight: 16,
    commitIntervalMs: 1,
    drainTimeoutMs: 1_000,
  });
  const coordinator = new CheckpointCoordinator({
    job: "recommend",
    source,
    backend: gated.backend,
    store,
    intervalMs: 0,
    barrierTimeoutMs: 2_000,
  });
  coordinator.start();
  const subscription = source
    .records()
    .pipe(
      dedupe<Event>({
        idOf: (r) => gatedId(statePartitionOf(r.origin), r.value.id),
        store: gated.store,
        ttlMs: 86_400_000,
        nearCacheSize: 0,
        // A claim left by the old owner must not hold the new one up for long either way.
        pendingWaitMs: 5_000,
      }),
      keyedProcess<Event, number>({
        backend: gated.backend,
        process: (r, ctx) => {
          const s = ctx.state(COUNT);
          s.update((s.value() ?? 0) + 1);
          r.ack.ack();
          return undefined;
        },
      }),
      filter(isRecord),
    )
    .subscribe({ error: () => undefined });
  const instance: Instance = {
    source,
    coordinator,
    gated,
    subscription,
    count: (key, partitions) => {
      let n = 0;
      for (let p = 0; p < partitions; p++) {
        const v = inner.getValue(`${TOPIC}/${p}`, "count", key, 0);
        if (typeof v === "number") n += v;
      }
      return n;
    },
    caughtUp: (partitions) => {
      const snaps = source.snapshot();
      return (
        snaps.length === partitions &&
        snaps.every(
          (s) =>
            (s.committed ?? log.startOffset(s.topic, s.partition)) ===
            log.endOffset(s.topic, s.partition),
        )
      );
    },
  };
  running.push(instance);
  return instance;
}

/** 60 events on 2 partitions over 3 keys, every fifth one published twice (same id). */
function publish(log: MemoryLog): Map<string, number> {
  log.createTopic(TOPIC, { partitions: 2 });
  const expected = new Map<string, number>();
  for (let i = 0; i < 60; i++) {
    const key = `user-${i % 3}`;
    const copies = i % 5 === 0 ? 2 : 1;
    for (let c = 0; c < copies; c++)
      log.append(TOPIC, { key, value: { id: `e${i}` }, timestamp: i });
    expected.set(key, (expected.get(key) ?? 0) + 1);
  }
  return expected;
}

/** A checkpoint store whose loads wait until `open()`: a new owner slow to restore. */
function slowLoads(store: CheckpointStore): CheckpointStore & {
  open(): void;
  readonly claims: number;
} {
  let open!: () => void;
  let claims = 0;
  const gate = new Promise<void>((resolve) => (open = resolve));
  return {
    get claims() {
      return claims;
    },
    saveCheckpoint: (job, pieces) => store.saveCheckpoint(job, pieces),
    claimCheckpoint: (job, topic, partition) => {
      claims += 1;
      return store.claimCheckpoint(job, topic, partition);
    },
    loadCheckpoint: async (job, topic, partition) => {
      await gate;
      return store.loadCheckpoint(job, topic, partition);
    },
    open,
  };
}

/**
 * The old owner has processed everything when the group moves both partitions to a new
 * member; it has not seen the rebalance yet (kafkajs learns of it at its next heartbeat) and
 * checkpoints twice, after the new owner claimed the checkpoints and before it loads them.
 * Returns what the old owner left confirmed in the far store and the new owner's counts.
 */
async function fencedOldOwner(unsafe: boolean): Promise<{
  readonly expected: Map<string, number>;
  readonly confirmedByOld: number;
  readonly counts: Map<string, number>;
  readonly next: Instance;
  readonly far: ReturnType<typeof recordingDedupeStore>;
}> {
  const log = new MemoryLog();
  const expected = publish(log);
  const store = memoryCheckpointStore();
  const far = recordingDedupeStore();
  const old = start(log, store, far, unsafe);
  await waitUntil(() => old.caughtUp(2), 10_000, "the first owner");
  await log.expel(old.source.member!);
  const slow = slowLoads(store);
  const next = start(log, slow, far);
  await waitUntil(() => slow.claims === 2, 10_000, "the new owner's claims");
  // Both of the old owner's saves are refused (fenced).
  expect(await old.coordinator.checkpoint()).toMatchObject({
    saved: false,
    skipped: "fenced",
  });
  await old.coordinator.checkpoint();
  await old.gated.flush();
  const confirmedByOld = far.confirmed.size;
  slow.open();
  await next.coordinator.restored();
  // The replay from offset 0 either runs everything or, where the far store says "done",
  // drops it: wait for the commit to reach the end.
  await waitUntil(() => next.caughtUp(2), 10_000, "the new owner");
  const counts = new Map(
    [...expected.keys()].map((k) => [k, next.count(k, 2)] as const),
  );
  return { expected, confirmedByOld, counts, next, far };
}

describe("checkpoint-gated dedupe under a rebalance", () => {
  it("loses nothing when the old owner's checkpoint is fenced because the new owner claimed first", async () => {
    const r = await fencedOldOwner(false);
    // None of the old owner's ids may be called processed: no checkpoint holds their effects.
    expect(r.confirmedByOld).toBe(0);
    expect(r.counts).toEqual(r.expected);
    // Once the new owner's own checkpoint is saved, the ids are confirmed for good.
    expect(await r.next.coordinator.checkpoint()).toMatchObject({
      saved: true,
    });
    await r.next.gated.flush();
    expect(r.far.confirmed.size).toBe(60);
  });

  it("loses records when confirms are moved back before the checkpoint (unsafeConfirmBeforeCheckpoint, for the chaos suite)", async () => {
    const r = await fencedOldOwner(true);
    expect(r.confirmedByOld).toBe(60);
    // Every record the old owner had processed is dropped by the replay: all is lost.
    for (const n of r.counts.values()) expect(n).toBe(0);
  });

  it("loses nothing when the old owner's saves failed and it then died", async () => {
    const log = new MemoryLog();
    const expected = publish(log);
    const good = memoryCheckpointStore();
    // The checkpoint store is down for the first instance: every save fails.
    const down: CheckpointStore = {
      saveCheckpoint: (_job: string, _pieces: readonly CheckpointPiece[]) =>
        Promise.reject(new Error("ECONNREFUSED")),
      claimCheckpoint: (job, topic, partition) =>
        good.claimCheckpoint(job, topic, partition),
      loadCheckpoint: (job, topic, partition) =>
        good.loadCheckpoint(job, topic, partition),
    };
    const far = recordingDedupeStore();
    const first = start(log, down, far);
    await waitUntil(() => first.caughtUp(2), 10_000, "the first instance");
    expect(await first.coordinator.checkpoint()).toMatchObject({
      saved: false,
      skipped: "store-failed",
    });
    expect(await first.coordinator.checkpoint()).toMatchObject({
      saved: false,
    });
    await first.gated.flush();
    expect(far.confirmed.size).toBe(0);
    // SIGKILL: no revoke, no checkpoint.
    first.coordinator.close();
    first.subscription.unsubscribe();
    await log.crash(first.source.member!);

    const second = start(log, good, far);
    await waitUntil(() => second.caughtUp(2), 10_000, "the restarted instance");
    for (const [key, n] of expected) expect(second.count(key, 2)).toBe(n);
  });

  it("a new owner joining normally restores the old owner's revoke checkpoint: nothing lost, nothing twice", async () => {
    const log = new MemoryLog();
    const expected = publish(log);
    const store = memoryCheckpointStore();
    const far = recordingDedupeStore();
    const a = start(log, store, far);
    await waitUntil(() => a.caughtUp(2), 10_000, "the first owner");
    const b = start(log, store, far);
    await log.settled(GROUP);
    await b.coordinator.restored();
    await waitUntil(
      () => a.source.snapshot().length === 1 && b.caughtUp(1),
      10_000,
      "one partition each",
    );
    for (const [key, n] of expected)
      expect(a.count(key, 2) + b.count(key, 2)).toBe(n);
  });
});

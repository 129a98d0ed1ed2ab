import { asyncScheduler } from "rxjs";
import type { SchedulerLike, Subscription } from "rxjs";
import { Counter, Gauge, Histogram } from "prom-client";
import type { Registry } from "prom-client";
import type { CommitTrackerSnapshot } from "../operators/commit-tracker.js";
import { SluiceError, toSluiceError } from "../operators/sluice-error.js";
import { statePartitionOf } from "../operators/state-backend.js";
import type {
  PartitionSnapshot,
  StateBackend,
  StateSnapshot,
} from "../operators/state-backend.js";
import {
  CheckpointFencedError,
  type CheckpointPiece,
  type CheckpointStore,
  type FencedPartition,
} from "../connectors/checkpoint-store.js";
import type { Source, TopicPartition } from "../connectors/types.js";
import { silentLogger } from "./log.js";
import type { Logger } from "./log.js";

/** Why a checkpoint was taken. */
export type CheckpointReason = "interval" | "revoke" | "shutdown" | "manual";

/** What one {@link CheckpointCoordinator.checkpoint} call did. */
export interface CheckpointResult {
  /** True when the pieces were written to the store. */
  readonly saved: boolean;
  /** Partitions written. */
  readonly partitions: number;
  /**
   * Why nothing was saved: the barrier timed out, the store failed, the coordinator is
   * closed, or every partition of it was claimed by another instance (fenced).
   */
  readonly skipped?: "barrier-timeout" | "store-failed" | "closed" | "fenced";
}

/** Options of a {@link CheckpointCoordinator}. */
export interface CheckpointCoordinatorOptions {
  /** Job name: checkpoints are stored per (job, topic, partition). */
  readonly job: string;
  /** The source whose offsets are checkpointed with the state. */
  readonly source: Source<unknown>;
  /** The keyed state fed by that source (the `backend` of its `keyedProcess`). */
  readonly backend: StateBackend;
  /** Where checkpoints are stored (PostgreSQL, Cassandra, or memory in tests). */
  readonly store: CheckpointStore;
  /** Period of checkpoints; 0 takes them only on demand, revoke and shutdown. Default 10 000. */
  readonly intervalMs?: number;
  /** Longest wait for in-flight records to settle at a barrier; past it the checkpoint is skipped. Default 5 000. */
  readonly barrierTimeoutMs?: number;
  /** Clock of the interval and of the barrier's wait. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Default: {@link silentLogger}. */
  readonly logger?: Logger;
  /** Registry for the checkpoint metrics (`sluice_checkpoints_total`, …). Default: none. */
  readonly registry?: Registry;
  /** Told about failures the job cannot go on with (a restore that fails). Default: logs them. */
  readonly onFatal?: (error: SluiceError) => void;
}

const EMPTY_PARTITION: PartitionSnapshot = {
  values: {},
  maps: {},
  timers: { event: [], processing: [] },
};

interface CheckpointMetrics {
  readonly total: Counter<"job" | "outcome" | "reason">;
  readonly duration: Histogram<"job">;
  readonly pause: Histogram<"job">;
  readonly lastSuccess: Gauge<"job">;
}

function metricsIn(
  registry: Registry | undefined,
): CheckpointMetrics | undefined {
  if (registry === undefined) return undefined;
  const existing = registry.getSingleMetric("sluice_checkpoints_total");
  if (existing !== undefined) {
    return {
      total: existing as Counter<"job" | "outcome" | "reason">,
      duration: registry.getSingleMetric(
        "sluice_checkpoint_duration_seconds",
      ) as Histogram<"job">,
      pause: registry.getSingleMetric(
        "sluice_checkpoint_pause_seconds",
      ) as Histogram<"job">,
      lastSuccess: registry.getSingleMetric(
        "sluice_checkpoint_last_success_timestamp_seconds",
      ) as Gauge<"job">,
    };
  }
  const registers = [registry];
  return {
    total: new Counter({
      name: "sluice_checkpoints_total",
      help: "Checkpoints by outcome (saved, skipped, failed) and reason (interval, revoke, shutdown, manual).",
      labelNames: ["job", "outcome", "reason"],
      registers,
    }),
    duration: new Histogram({
      name: "sluice_checkpoint_duration_seconds",
      help: "Time from the barrier to the store's confirmation.",
      labelNames: ["job"],
      registers,
    }),
    pause: new Histogram({
      name: "sluice_checkpoint_pause_seconds",
      help: "Time intake was paused by the checkpoint barrier.",
      labelNames: ["job"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
    lastSuccess: new Gauge({
      name: "sluice_checkpoint_last_success_timestamp_seconds",
      help: "Wall-clock time of the last saved checkpoint.",
      labelNames: ["job"],
      registers,
    }),
  };
}

const idOf = (tp: TopicPartition): string => statePartitionOf(tp);

/**
 * Checkpoints a source's offsets and the keyed state it feeds TOGETHER, and restores both
 * when partitions are assigned, so a killed job restarted from its last checkpoint neither
 * loses nor double-counts (DESIGN.md "Checkpoints are taken at a drained barrier").
 *
 * **The barrier.** A checkpoint must be a consistent cut: every record whose effect is in
 * the state snapshot must be at or below the snapshotted commit point (or in its done
 * ranges), and every record the offsets call done must have its effect in the state. A
 * `keyedProcess` acks a record as it absorbs it, but a record whose output carries its
 * handle (a derived count on its way to a sink) is already in the state while its offset is
 * still pending, so snapshotting at an arbitrary moment would replay it after a restore and
 * count it twice. So each checkpoint: (1) pauses the source's intake; (2) waits until the
 * source has no emitted record unsettled (`inFlight === 0`, bounded by `barrierTimeoutMs`),
 * so every emitted record is either done or failed (failed ones are not done and are
 * redelivered either way), and no output of a fired timer is unsettled
 * (`backend.outputsInFlight`: the timer has left the state, so its output must be written
 * before a cut that no longer holds the timer); (3) snapshots the trackers (`source.snapshot()`) and the state
 * (`backend.snapshot(ids)`) in one synchronous step — nothing can run in between; (4)
 * resumes intake at once and writes the pieces to the store in one atomic save. If the
 * barrier times out (records held across checkpoints, as an unfired window that is not in
 * keyed state), the checkpoint is skipped, never taken inconsistent: the previous one stays,
 * and a restore from it replays more, but counts nothing twice.
 *
 * **Restore.** On an `assigned` event the coordinator pauses the new partitions at once
 * (before the source's first fetch for them), claims and loads each partition's
 * checkpoint, restores the state (`backend.restore`, or drops stale state when there is
 * none) and the offsets (`source.restore`, which ignores the group's committed offset,
 * possibly newer than the checkpoint), then resumes them. Partitions still being restored are left out of
 * checkpoints, so their stored checkpoint is never overwritten with empty state.
 *
 * **Revoke and close.** Through `source.beforeRelease`, after the source has drained the
 * revoked partitions and before it commits and releases them, the coordinator takes a
 * barrier checkpoint and then drops their state (the next owner restores it).
 *
 * **Durability notices.** After each save the backend hears which snapshotted partitions
 * are now durable (`backend.checkpointSaved`) and which are not (`checkpointAborted`: the
 * store failed, or they were fenced), as Flink's `notifyCheckpointComplete`. A
 * processed-id cache gated on checkpoints writes its marks only on the first, so a failed
 * save is never taken for saved.
 *
 * **Fencing.** Before loading, the restore claims each partition's checkpoint
 * (`store.claimCheckpoint`: a new epoch), and every save carries that epoch. A save whose
 * partition another instance has claimed since is refused for that partition (a zombie, or
 * this instance before it sees the rebalance): the coordinator pauses the partition, drops
 * its state, saves the rest, and never writes that partition's checkpoint again until the
 * rebalance hands it back. So a stale instance can never roll the newest checkpoint back.
 *
 * @example
 * ```ts
 * const backend = memoryStateBackend();
 * const coordinator = new CheckpointCoordinator({ job: "count", source, backend, store, intervalMs: 10_000 });
 * coordinator.start(); // before the first records() subscription
 * source.records().pipe(keyedProcess({ backend, process: countIt })).subscribe(ackIt);
 * // ... on shutdown
 * coordinator.stopIntake();
 * await coordinator.checkpoint("shutdown");
 * coordinator.close();
 * ```
 */
export class CheckpointCoordinator {
  private readonly job: string;
  private readonly source: Source<unknown>;
  private readonly backend: StateBackend;
  private readonly store: CheckpointStore;
  private readonly intervalMs: number;
  private readonly barrierTimeoutMs: number;
  private readonly scheduler: SchedulerLike;
  private readonly logger: Logger;
  private readonly metrics: CheckpointMetrics | undefined;
  private readonly onFatal: (error: SluiceError) => void;
  /** Partitions assigned and not yet restored: paused, and left out of checkpoints. */
  private readonly restoring = new Map<string, TopicPartition>();
  /** This instance's claim on each restored partition's checkpoint (fencing). */
  private readonly epochs = new Map<string, number>();
  /** Partitions another instance claimed since: paused, state dropped, never saved again here. */
  private readonly fenced = new Map<string, TopicPartition>();
  private readonly restores = new Set<Promise<void>>();
  private readonly subscriptions: Subscription[] = [];
  private removeHook: (() => void) | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private running = 0;
  private started = false;
  private closed = false;
  private stopping = false;
  private warnedNoRestore = false;

  constructor(options: CheckpointCoordinatorOptions) {
    const intervalMs = options.intervalMs ?? 10_000;
    const barrierTimeoutMs = options.barrierTimeoutMs ?? 5_000;
    if (!Number.isFinite(intervalMs) || intervalMs < 0)
      throw new SluiceError(
        "CONFIG",
        `checkpoint.intervalMs must be a number >= 0, got ${intervalMs}`,
      );
    if (!Number.isFinite(barrierTimeoutMs) || barrierTimeoutMs <= 0)
      throw new SluiceError(
        "CONFIG",
        `checkpoint.barrierTimeoutMs must be a positive number, got ${barrierTimeoutMs}`,
      );
    this.job = options.job;
    this.source = options.source;
    this.backend = options.backend;
    this.store = options.store;
    this.intervalMs = intervalMs;
    this.barrierTimeoutMs = barrierTimeoutMs;
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.logger = (options.logger ?? silentLogger).child({
      component: "checkpoint",
      source: options.source.name,
    });
    this.metrics = metricsIn(options.registry);
    this.onFatal =
      options.onFatal ??
      ((error) => this.logger.error("restore failed", { err: error }));
  }

  /**
   * Subscribes to the source's assignments (restoring on `assigned`), registers the
   * revoke/close hook and starts the interval. Call it before subscribing to
   * `source.records()`, so no partition emits before its restore. Idempotent.
   */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.subscriptions.push(
      this.source.assignments().subscribe((event) => {
        if (event.type === "assigned") this.assigned(event.partitions);
        else
          for (const tp of event.partitions) {
            this.restoring.delete(idOf(tp));
            this.epochs.delete(idOf(tp));
            this.fenced.delete(idOf(tp));
          }
      }),
    );
    this.removeHook = this.source.beforeRelease?.((partitions) =>
      this.released(partitions),
    );
    if (this.intervalMs > 0) {
      const tick = (): void => {
        if (this.running === 0) void this.checkpoint("interval");
      };
      const interval = this.intervalMs;
      this.subscriptions.push(
        this.scheduler.schedule(function (this: {
          schedule(state?: undefined, delay?: number): void;
        }) {
          tick();
          this.schedule(undefined, interval);
        }, interval),
      );
    }
  }

  /** Resolves when every restore started so far has finished. */
  async restored(): Promise<void> {
    while (this.restores.size > 0) await Promise.all([...this.restores]);
  }

  /**
   * Takes a checkpoint now through the barrier (see the class summary). Checkpoints run one
   * at a time: a call waits for the one before it. Never rejects: a store failure is
   * logged, counted and reported as `skipped: "store-failed"`.
   */
  checkpoint(reason: CheckpointReason = "manual"): Promise<CheckpointResult> {
    this.running += 1;
    const next = this.chain.then(() => this.barrier(reason, undefined));
    this.chain = next.catch(() => undefined);
    return next.finally(() => {
      this.running -= 1;
    });
  }

  /**
   * Stops intake for good (shutdown): pauses the source; later barriers no longer resume
   * it. Records already emitted keep flowing to their sinks.
   */
  stopIntake(): void {
    this.stopping = true;
    this.source.pause();
  }

  /**
   * Waits until the source has no unsettled record and the backend no unsettled timer
   * output (`backend.outputsInFlight`); false if `timeoutMs` passed first.
   */
  drain(timeoutMs: number): Promise<boolean> {
    return this.waitFor(
      () => this.source.inFlight === 0 && this.timerOutputsInFlight() === 0,
      timeoutMs,
    );
  }

  private timerOutputsInFlight(): number {
    return this.backend.outputsInFlight?.() ?? 0;
  }

  /** Stops the interval and the hooks, without a final checkpoint (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subscriptions) s.unsubscribe();
    this.removeHook?.();
  }

  private assigned(partitions: readonly TopicPartition[]): void {
    if (this.closed) return;
    const fresh = partitions.filter((tp) => !this.restoring.has(idOf(tp)));
    if (fresh.length === 0) return;
    for (const tp of fresh) {
      this.restoring.set(idOf(tp), tp);
      this.fenced.delete(idOf(tp));
    }
    // Synchronously, inside the source's `assigned` event: before its first fetch.
    this.source.pause(fresh);
    const task = this.restore(fresh).catch((error: unknown) => {
      this.onFatal(toSluiceError(error, "UNAVAILABLE", { stage: "source" }));
    });
    this.restores.add(task);
    void task.finally(() => this.restores.delete(task));
  }

  private async restore(partitions: readonly TopicPartition[]): Promise<void> {
    const started = Date.now();
    // Claim first: from here a previous owner's saves are refused, so the load below sees
    // its last save and nothing it writes later.
    const claimed = await Promise.all(
      partitions.map((tp) =>
        this.store.claimCheckpoint(this.job, tp.topic, tp.partition),
      ),
    );
    const loaded = await Promise.all(
      partitions.map((tp) =>
        this.store.loadCheckpoint(this.job, tp.topic, tp.partition),
      ),
    );
    if (this.closed) return;
    const state: { [id: string]: PartitionSnapshot } = {};
    const offsets: CommitTrackerSnapshot[] = [];
    const live: TopicPartition[] = [];
    partitions.forEach((tp, i) => {
      const id = idOf(tp);
      // Revoked while loading: the next owner restores it.
      if (this.restoring.get(id) !== tp) return;
      live.push(tp);
      this.epochs.set(id, claimed[i]!);
      const piece = loaded[i];
      if (piece === undefined) {
        this.backend.dropPartition(id);
        offsets.push({
          topic: tp.topic,
          partition: tp.partition,
          committed: undefined,
          doneAbove: [],
        });
      } else {
        state[id] = piece.state;
        offsets.push(piece.offsets);
      }
    });
    if (live.length === 0) return;
    const snapshot: StateSnapshot = { version: 1, partitions: state };
    this.backend.restore(snapshot);
    if (this.source.restore !== undefined) this.source.restore(offsets);
    else if (!this.warnedNoRestore) {
      this.warnedNoRestore = true;
      this.logger.warn(
        "source cannot restore offsets: it resumes from its committed offsets, which may not match the restored state",
      );
    }
    for (const tp of live) this.restoring.delete(idOf(tp));
    this.logger.info("restored partitions", {
      partitions: live.map(idOf),
      fromCheckpoint: Object.keys(state).length,
      ms: Date.now() - started,
    });
    if (!this.stopping) this.source.resume(live);
  }

  private async released(partitions: readonly TopicPartition[]): Promise<void> {
    const ids = new Set(partitions.map(idOf));
    const result = await this.serial(() =>
      this.barrier(this.stopping ? "shutdown" : "revoke", ids),
    );
    for (const id of ids) {
      this.restoring.delete(id);
      this.epochs.delete(id);
      this.fenced.delete(id);
      this.backend.dropPartition(id);
    }
    if (!result.saved)
      this.logger.warn(
        "revoked partitions released without a new checkpoint; the next owner restores the previous one",
        { partitions: [...ids], skipped: result.skipped },
      );
  }

  private serial<R>(fn: () => Promise<R>): Promise<R> {
    this.running += 1;
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next.finally(() => {
      this.running -= 1;
    });
  }

  private resumeIntake(): void {
    if (this.stopping || this.closed) return;
    this.source.resume();
    // resume() without partitions lifts every pause: keep unrestored and fenced
    // partitions paused.
    if (this.restoring.size > 0 || this.fenced.size > 0)
      this.source.pause([...this.restoring.values(), ...this.fenced.values()]);
  }

  private async barrier(
    reason: CheckpointReason,
    only: ReadonlySet<string> | undefined,
  ): Promise<CheckpointResult> {
    if (this.closed) return { saved: false, partitions: 0, skipped: "closed" };
    const started = Date.now();
    this.source.pause();
    let pieces: CheckpointPiece[];
    try {
      const drained = await this.drain(this.barrierTimeoutMs);
      if (!drained) {
        this.metrics?.total.inc({
          job: this.job,
          outcome: "skipped",
          reason,
        });
        this.logger.warn(
          "checkpoint skipped: in-flight records did not settle",
          {
            reason,
            inFlight: this.source.inFlight,
            timerOutputsInFlight: this.timerOutputsInFlight(),
            barrierTimeoutMs: this.barrierTimeoutMs,
          },
        );
        return { saved: false, partitions: 0, skipped: "barrier-timeout" };
      }
      // One synchronous step: offsets and state at the same cut.
      const offsets = this.source
        .snapshot()
        .filter(
          (s) => !this.restoring.has(idOf(s)) && !this.fenced.has(idOf(s)),
        )
        .filter((s) => only === undefined || only.has(idOf(s)));
      const state = this.backend.snapshot(offsets.map(idOf));
      pieces = offsets.map((o) => {
        const epoch = this.epochs.get(idOf(o));
        return {
          topic: o.topic,
          partition: o.partition,
          offsets: o,
          state: state.partitions[idOf(o)] ?? EMPTY_PARTITION,
          ...(epoch === undefined ? {} : { epoch }),
        };
      });
    } finally {
      this.metrics?.pause.observe(
        { job: this.job },
        (Date.now() - started) / 1000,
      );
      this.resumeIntake();
    }
    // Every partition snapshotted above is told how its save ended, saved or not, so
    // nothing waiting on durability (a processed-id cache) takes an unsaved cut for saved.
    const snapshotted = pieces.map(idOf);
    try {
      try {
        await this.store.saveCheckpoint(this.job, pieces);
      } catch (error) {
        if (!(error instanceof CheckpointFencedError)) throw error;
        // Nothing was written for the fenced ones: they are another instance's now. The
        // rest is saved again without them (once: a second fence is a store failure).
        this.fence(error.fenced);
        const gone = new Set(error.fenced.map(idOf));
        pieces = pieces.filter((p) => !gone.has(idOf(p)));
        if (pieces.length === 0) {
          this.backend.checkpointAborted?.(snapshotted);
          this.metrics?.total.inc({
            job: this.job,
            outcome: "fenced",
            reason,
          });
          return { saved: false, partitions: 0, skipped: "fenced" };
        }
        await this.store.saveCheckpoint(this.job, pieces);
      }
    } catch (error) {
      this.backend.checkpointAborted?.(snapshotted);
      this.metrics?.total.inc({ job: this.job, outcome: "failed", reason });
      this.logger.error("checkpoint save failed", {
        reason,
        err: toSluiceError(error, "UNAVAILABLE"),
      });
      return { saved: false, partitions: 0, skipped: "store-failed" };
    }
    const saved = pieces.map(idOf);
    const savedSet = new Set(saved);
    const aborted = snapshotted.filter((id) => !savedSet.has(id));
    if (aborted.length > 0) this.backend.checkpointAborted?.(aborted);
    this.backend.checkpointSaved?.(saved);
    this.metrics?.total.inc({ job: this.job, outcome: "saved", reason });
    this.metrics?.duration.observe(
      { job: this.job },
      (Date.now() - started) / 1000,
    );
    this.metrics?.lastSuccess.set({ job: this.job }, Date.now() / 1000);
    this.logger.debug("checkpoint saved", {
      reason,
      partitions: pieces.length,
      ms: Date.now() - started,
    });
    return { saved: true, partitions: pieces.length };
  }

  /**
   * Another instance claimed these partitions since this one restored them (a rebalance this
   * instance has not seen yet, or it is a zombie): their state is dropped and they stay
   * paused, so this instance does no more work for them and never writes their checkpoint
   * again. The rebalance releases them (or assigns them back, with a new claim).
   */
  private fence(partitions: readonly FencedPartition[]): void {
    const tps: TopicPartition[] = [];
    for (const f of partitions) {
      const id = idOf(f);
      const tp = { topic: f.topic, partition: f.partition };
      this.fenced.set(id, tp);
      this.epochs.delete(id);
      this.backend.dropPartition(id);
      tps.push(tp);
    }
    if (tps.length > 0) this.source.pause(tps);
    this.logger.warn(
      "partitions fenced: another instance claimed their checkpoints; paused and dropped here until the rebalance releases them",
      {
        partitions: partitions.map(
          (f) => `${idOf(f)} (epoch ${f.epoch}, owner ${f.ownerEpoch})`,
        ),
      },
    );
  }

  private waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    const deadline = this.scheduler.now() + timeoutMs;
    return new Promise<boolean>((resolve) => {
      const scheduler = this.scheduler;
      scheduler.schedule(function (this: {
        schedule(state?: undefined, delay?: number): void;
      }) {
        if (done()) resolve(true);
        else if (scheduler.now() >= deadline) resolve(done());
        else this.schedule(undefined, 1);
      }, 1);
    });
  }
}

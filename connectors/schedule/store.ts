import { closedError } from "../internal/errors.js";

/** Where a firing stands in the durable record. */
export type FiringStatus = "started" | "done" | "failed" | "skipped";

/** One recorded firing. */
export interface FiringEntry {
  readonly job: string;
  /** `${job}@${scheduledAt ISO}`. */
  readonly id: string;
  /** Scheduled instant, epoch ms. */
  readonly scheduledAt: number;
  readonly status: FiringStatus;
  /** How many times it was started (1 on the first run, more after a crash or a failure). */
  readonly attempts: number;
  /** Clock time of the last status change, epoch ms. */
  readonly updatedAt: number;
  /** Why it failed or was skipped. */
  readonly reason: string | undefined;
}

/** The firing a run begins: job, id and instant. */
export interface FiringKey {
  readonly job: string;
  readonly id: string;
  readonly scheduledAt: number;
}

/** What {@link FiringStore.begin} found. */
export interface BeginResult {
  /** The status before this call; `undefined` for a firing never seen. */
  readonly previous: FiringStatus | undefined;
  /** True when the firing may run now: it was new, unfinished, failed or skipped. False when `done`. */
  readonly run: boolean;
  /** Attempts including this one (unchanged when `run` is false). */
  readonly attempts: number;
}

/**
 * The durable "last firing" record of scheduled jobs: which firings started, finished,
 * failed or were skipped. Firing ids are deterministic, so a second start of the same
 * firing (a rerun of a K3s CronJob, two replicas) is detected: `begin` on a `done` firing
 * returns `run: false`.
 *
 * @example
 * ```ts
 * const r = await store.begin({ job, id, scheduledAt }, clock.now());
 * if (r.run) { await work(); await store.finish({ job, id, scheduledAt }, "done", clock.now()); }
 * ```
 */
export interface FiringStore {
  readonly name: string;
  /** The firing with the latest scheduled instant recorded for `job` (any status). */
  last(job: string): Promise<FiringEntry | undefined>;
  /** The recorded firing, if any. */
  get(job: string, scheduledAt: number): Promise<FiringEntry | undefined>;
  /** Marks the firing started unless it is `done`; see {@link BeginResult}. Atomic. */
  begin(firing: FiringKey, atMs: number): Promise<BeginResult>;
  /** Records the end of a firing (or a skip, with its reason). */
  finish(
    firing: FiringKey,
    status: "done" | "failed" | "skipped",
    atMs: number,
    reason?: string,
  ): Promise<void>;
  /** Every recorded firing of `job`, oldest first (for tests and reports; small tables). */
  list(job: string): Promise<readonly FiringEntry[]>;
  close(): Promise<void>;
}

/**
 * An in-process {@link FiringStore}: the embedded default and the unit tests' store.
 *
 * @example
 * ```ts
 * const store = memoryFiringStore();
 * const source = scheduleSource({ job: "promo", cron: "1 0 * * *", timeZone: "Asia/Jakarta", store });
 * ```
 */
export function memoryFiringStore(): FiringStore {
  const rows = new Map<string, FiringEntry>();
  let closed = false;
  const k = (job: string, at: number): string => `${job}\u0000${at}`;
  const check = (): void => {
    if (closed) throw closedError("memory-firing-store");
  };
  return {
    name: "memory-firing-store",
    last(job) {
      check();
      let best: FiringEntry | undefined;
      for (const e of rows.values())
        if (
          e.job === job &&
          (best === undefined || e.scheduledAt > best.scheduledAt)
        )
          best = e;
      return Promise.resolve(best);
    },
    get(job, at) {
      check();
      return Promise.resolve(rows.get(k(job, at)));
    },
    begin(f, atMs) {
      check();
      const prev = rows.get(k(f.job, f.scheduledAt));
      if (prev?.status === "done")
        return Promise.resolve({
          previous: "done",
          run: false,
          attempts: prev.attempts,
        });
      const attempts = (prev?.attempts ?? 0) + 1;
      rows.set(k(f.job, f.scheduledAt), {
        job: f.job,
        id: f.id,
        scheduledAt: f.scheduledAt,
        status: "started",
        attempts,
        updatedAt: atMs,
        reason: undefined,
      });
      return Promise.resolve({ previous: prev?.status, run: true, attempts });
    },
    finish(f, status, atMs, reason) {
      check();
      const prev = rows.get(k(f.job, f.scheduledAt));
      if (prev?.status === "done") return Promise.resolve();
      rows.set(k(f.job, f.scheduledAt), {
        job: f.job,
        id: f.id,
        scheduledAt: f.scheduledAt,
        status,
        attempts: prev?.attempts ?? 0,
        updatedAt: atMs,
        reason,
      });
      return Promise.resolve();
    },
    list(job) {
      check();
      return Promise.resolve(
        [...rows.values()]
          .filter((e) => e.job === job)
          .sort((a, b) => a.scheduledAt - b.scheduledAt),
      );
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}

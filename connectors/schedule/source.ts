import { DateTime } from "luxon";
import {
  asapScheduler,
  asyncScheduler,
  scheduled,
  Observable,
  of,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
} from "rxjs";
import { countedAck } from "../../operators/internal/counted-ack.js";
import type { Record } from "../../operators/record.js";
import { SluiceError, toSluiceError } from "../../operators/sluice-error.js";
import type { AssignmentEvent, Source } from "../types.js";
import {
  CronCalendar,
  firingId,
  type CronSpec,
  type ScheduledInstant,
} from "./calendar.js";
import type { FiringKey, FiringStore } from "./store.js";

/** What happens to a firing that comes due while the previous one is still running. */
export type OverlapPolicy = "skip" | "queue-one";

/** Which firings missed during downtime are run when the source starts again. */
export interface CatchUpOptions {
  /**
   * `all`: every firing scheduled since the last recorded one, oldest first, at most
   * `maxFirings` (the newest ones; older ones are recorded as skipped); `latest`: only the
   * newest missed firing; `none`: none (all recorded as skipped). Default `latest`.
   */
  readonly policy: "all" | "latest" | "none";
  /** Cap for `all`. Default 24. */
  readonly maxFirings?: number;
}

/** Options of {@link scheduleSource}. */
export interface ScheduleSourceOptions extends CronSpec {
  /** Job name: the first half of every firing id. */
  readonly job: string;
  /** Durable record of firings (last firing, duplicates). */
  readonly store: FiringStore;
  /** Default `skip`. */
  readonly overlap?: OverlapPolicy;
  /** Default `{ policy: "latest" }`. */
  readonly catchUp?: CatchUpOptions;
  /**
   * `continuous` (a Deployment): fires at every scheduled instant until closed.
   * `run-once` (a K3s CronJob): runs the firing it was started for, the latest scheduled
   * instant at or before now and no older than `toleranceMs`, then completes. Default
   * `continuous`.
   */
  readonly mode?: "continuous" | "run-once";
  /** Run-once: how late a start may be and still count for a firing. Default 600 000 (10 min). */
  readonly toleranceMs?: number;
  /** With no firing recorded yet, catch up from this instant (epoch ms). Default: no catch-up on a first start. */
  readonly startAtMs?: number;
  /** The clock: `now()` and timers. Default `asyncScheduler`; tests pass a `TestScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** How long `close()` waits for a running firing. Default 30 000. */
  readonly closeTimeoutMs?: number;
}

/** A firing of a scheduled job: the value of the schedule source's records. */
export interface Firing {
  readonly job: string;
  /** `${job}@${scheduledAt as ISO UTC}`: the same firing has the same id on every run. */
  readonly id: string;
  /** The scheduled instant, epoch ms (UTC). */
  readonly scheduledAt: number;
  /** The scheduled instant as local ISO time with offset in the job's zone. */
  readonly localTime: string;
  /** The local calendar date of the scheduled instant (`YYYY-MM-DD`) in the job's zone. */
  readonly localDate: string;
  readonly timeZone: string;
  /** Clock time at emission, epoch ms. */
  readonly firedAt: number;
  /** True for a firing run late: caught up after downtime or queued behind an overlap. */
  readonly late: boolean;
  /** 1 on the first run of this firing; more when an earlier run crashed or failed. */
  readonly attempt: number;
}

/** Counters of a schedule source. */
export interface ScheduleStats {
  emitted: number;
  /** Firings found `done` already (a rerun of the same instant): not emitted. */
  duplicates: number;
  /** Firings recorded as skipped (overlap, catch-up limit, dst-gap). */
  skipped: number;
  /** Firings emitted late after downtime. */
  caughtUp: number;
  /** Run-once: started with no firing within the tolerance. */
  noFiring: number;
  failed: number;
}

interface Pending {
  readonly instant: ScheduledInstant;
  readonly late: boolean;
  readonly live: boolean;
}

/**
 * A schedule source: firings of a cron expression in an IANA time zone as records (key =
 * job, value = {@link Firing}, timestamp = scheduled instant, header `sluice-firing-id`).
 * Acking a firing's record (all its descendants) records it `done`; a nack records it
 * `failed` and it runs again on the next start. Firings run one at a time; the overlap,
 * catch-up and daylight-saving policies are named options. Offsets are not used: the
 * durable truth is the {@link FiringStore}.
 *
 * @example
 * ```ts
 * const source = scheduleSource({ job: "birthday-promo", cron: "1 0 * * *", timeZone: "Asia/Jakarta",
 *   store: postgresFiringStore(db), mode: "run-once" });
 * await lastValueFrom(source.records().pipe(mergeMap(async (r) => { await promo(r.value); r.ack.ack(); })), { defaultValue: undefined });
 * ```
 */
export class ScheduleSource implements Source<Firing> {
  readonly name: string;
  readonly calendar: CronCalendar;
  readonly stats: ScheduleStats = {
    emitted: 0,
    duplicates: 0,
    skipped: 0,
    caughtUp: 0,
    noFiring: 0,
    failed: 0,
  };
  private readonly o: ScheduleSourceOptions;
  private readonly scheduler: SchedulerLike;
  private readonly queue: Pending[] = [];
  private running = 0;
  private busy = false;
  private paused = false;
  private closed = false;
  private timer: Subscription | undefined;
  private sub: Subscriber<Record<Firing>> | undefined;
  private seq = 0;
  private idleWaiters: (() => void)[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(options: ScheduleSourceOptions) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(options.job))
      throw new SluiceError(
        "CONFIG",
        `schedule.job must be a name of letters, digits, . _ - (got ${JSON.stringify(options.job)})`,
      );
    this.calendar = new CronCalendar(options, `schedule(${options.job})`);
    const max = options.catchUp?.maxFirings ?? 24;
    if (!Number.isInteger(max) || max < 1)
      throw new SluiceError(
        "CONFIG",
        "schedule.catchUp.maxFirings must be a positive integer",
      );
    if (
      options.toleranceMs !== undefined &&
      !(options.toleranceMs >= 0 && Number.isFinite(options.toleranceMs))
    )
      throw new SluiceError(
        "CONFIG",
        "schedule.toleranceMs must be a non-negative number",
      );
    this.o = options;
    this.name = `schedule:${options.job}`;
    this.scheduler = options.scheduler ?? asyncScheduler;
  }

  get inFlight(): number {
    return this.running;
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  records(): Observable<Record<Firing>> {
    return new Observable<Record<Firing>>((subscriber) => {
      if (this.sub !== undefined) {
        subscriber.error(
          new SluiceError(
            "CONFLICT",
            `${this.name}: records() is already subscribed`,
          ),
        );
        return undefined;
      }
      this.sub = subscriber;
      this.serial(() => this.start());
      return () => {
        this.timer?.unsubscribe();
        this.timer = undefined;
        this.closed = true;
      };
    });
  }

  assignments(): Observable<AssignmentEvent> {
    // Asynchronously, as a consumer group announces it: callers subscribe before they store the subscription.
    return scheduled(
      of<AssignmentEvent>({
        type: "assigned",
        partitions: [{ topic: this.name, partition: 0 }],
      }),
      asapScheduler,
    );
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.serial(() => this.pump());
  }

  snapshot(): readonly [] {
    return [];
  }

  commit(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed && this.sub === undefined) return;
    this.closed = true;
    this.timer?.unsubscribe();
    this.timer = undefined;
    if (this.running > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.o.closeTimeoutMs ?? 30_000);
        this.idleWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await this.chain;
    const sub = this.sub;
    this.sub = undefined;
    sub?.complete();
  }

  /** Runs async steps one after another; a failure errors the record stream. */
  private serial(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((error: unknown) => {
      this.sub?.error(toSluiceError(error, "CONNECTION"));
    });
  }

  private key(at: number): FiringKey {
    return { job: this.o.job, id: firingId(this.o.job, at), scheduledAt: at };
  }

  private async skip(at: number, reason: string): Promise<void> {
    this.stats.skipped += 1;
    await this.o.store.finish(
      this.key(at),
      "skipped",
      this.scheduler.now(),
      reason,
    );
  }

  private async start(): Promise<void> {
    const now = this.scheduler.now();
    if ((this.o.mode ?? "continuous") === "run-once") {
      const tolerance = this.o.toleranceMs ?? 600_000;
      const inst = this.calendar.latest(now);
      if (inst === undefined || now - inst.at > tolerance) {
        this.stats.noFiring += 1;
        this.sub?.complete();
        return;
      }
      if (inst.skip !== undefined) {
        await this.skip(inst.at, inst.skip);
        this.sub?.complete();
        return;
      }
      this.queue.push({ instant: inst, late: now > inst.at, live: false });
      await this.pump();
      return;
    }
    const last = await this.o.store.last(this.o.job);
    const from = last?.scheduledAt ?? this.o.startAtMs;
    const missed: ScheduledInstant[] = [];
    if (
      last !== undefined &&
      (last.status === "started" || last.status === "failed")
    )
      missed.push({ at: last.scheduledAt }); // a crashed or failed run goes again
    if (from !== undefined) missed.push(...this.calendar.between(from, now));
    const policy = this.o.catchUp?.policy ?? "latest";
    const cap =
      policy === "all"
        ? (this.o.catchUp?.maxFirings ?? 24)
        : policy === "latest"
          ? 1
          : 0;
    const runnable = missed.filter((m) => m.skip === undefined);
    for (const m of missed)
      if (m.skip !== undefined) await this.skip(m.at, m.skip);
    const keep = cap === 0 ? [] : runnable.slice(-cap);
    for (const m of runnable.slice(0, runnable.length - keep.length))
      await this.skip(
        m.at,
        `catch-up: policy ${policy} keeps ${cap} of ${runnable.length} missed firings`,
      );
    for (const m of keep)
      this.queue.push({ instant: m, late: true, live: false });
    this.arm(now);
    await this.pump();
  }

  private arm(afterMs: number): void {
    if (this.closed) return;
    const next = this.calendar.next(afterMs);
    if (next === undefined) return;
    const delay = Math.max(0, next.at - this.scheduler.now());
    this.timer = this.scheduler.schedule(() => {
      this.timer = undefined;
      this.serial(() => this.due(next));
    }, delay);
  }

  private async due(inst: ScheduledInstant): Promise<void> {
    this.arm(inst.at);
    if (inst.skip !== undefined) return this.skip(inst.at, inst.skip);
    const policy = this.o.overlap ?? "skip";
    if (this.running > 0 || this.queue.length > 0) {
      const id = firingId(this.o.job, inst.at);
      if (policy === "skip")
        return this.skip(
          inst.at,
          `overlap: a firing is still running when ${id} came due`,
        );
      if (this.queue.some((p) => p.live))
        return this.skip(
          inst.at,
          `overlap: one firing is already queued when ${id} came due`,
        );
      this.queue.push({ instant: inst, late: true, live: true });
      return;
    }
    this.queue.push({ instant: inst, late: false, live: true });
    await this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (!this.paused && this.running === 0 && this.queue.length > 0) {
        if (this.sub === undefined || this.sub.closed) return;
        const p = this.queue.shift()!;
        const key = this.key(p.instant.at);
        const now = this.scheduler.now();
        const begun = await this.o.store.begin(key, now);
        if (!begun.run) {
          this.stats.duplicates += 1;
          continue;
        }
        if (p.late && !p.live) this.stats.caughtUp += 1;
        this.emit(p, key, begun.attempts, now);
      }
      if (
        (this.o.mode ?? "continuous") === "run-once" &&
        this.running === 0 &&
        this.queue.length === 0
      )
        this.sub?.complete();
    } finally {
      this.busy = false;
    }
  }

  private emit(p: Pending, key: FiringKey, attempt: number, now: number): void {
    const local = DateTime.fromMillis(key.scheduledAt, {
      zone: this.o.timeZone,
    });
    const firing: Firing = {
      job: key.job,
      id: key.id,
      scheduledAt: key.scheduledAt,
      localTime: local.toISO() ?? "",
      localDate: local.toISODate() ?? "",
      timeZone: this.o.timeZone,
      firedAt: now,
      late: p.late,
      attempt,
    };
    this.running += 1;
    this.stats.emitted += 1;
    const onSettled = (error?: SluiceError): void => {
      this.serial(async () => {
        if (error === undefined)
          await this.o.store.finish(key, "done", this.scheduler.now());
        else {
          this.stats.failed += 1;
          await this.o.store.finish(
            key,
            "failed",
            this.scheduler.now(),
            `${error.code}: ${error.message}`,
          );
        }
        this.running -= 1;
        if (this.running === 0) for (const w of this.idleWaiters.splice(0)) w();
        await this.pump();
      });
    };
    const ack = countedAck({ done: () => onSettled(), failed: onSettled });
    this.sub?.next({
      key: key.job,
      value: firing,
      timestamp: key.scheduledAt,
      headers: { "sluice-firing-id": key.id },
      origin: { topic: this.name, partition: 0, offset: this.seq++ },
      ack,
    });
  }
}

/**
 * Creates a {@link ScheduleSource}.
 *
 * @example
 * ```ts
 * const source = scheduleSource({ job: "hourly", cron: "0 * * * *", timeZone: "Europe/Berlin",
 *   store: memoryFiringStore(), overlap: "queue-one", catchUp: { policy: "all", maxFirings: 6 } });
 * ```
 */
export function scheduleSource(options: ScheduleSourceOptions): ScheduleSource {
  return new ScheduleSource(options);
}

import { Subscription, type SchedulerAction, type SchedulerLike } from "rxjs";

interface Entry {
  due: number;
  seq: number;
  action: ManualAction<unknown>;
}

class ManualAction<T> extends Subscription implements SchedulerAction<T> {
  constructor(
    private readonly clock: ManualClock,
    private readonly work: (this: SchedulerAction<T>, state?: T) => void,
    public state: T | undefined,
  ) {
    super();
  }
  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.state = state;
    this.clock.enqueue(this as ManualAction<unknown>, delay);
    return this;
  }
  run(): void {
    if (!this.closed) this.work.call(this, this.state);
  }
}

/**
 * A clock for tests of code that mixes timers with promises (stores, clients): a
 * `SchedulerLike` whose time moves only when the test says, running due timers in order
 * and letting pending promises settle after each. RxJS's `TestScheduler` flushes
 * synchronously, so it cannot wait for an async store; this can.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(Date.parse("2026-03-28T00:00:00Z"));
 * const source = scheduleSource({ ..., scheduler: clock });
 * await clock.advanceTo(Date.parse("2026-03-30T00:00:00Z"));
 * ```
 */
export class ManualClock implements SchedulerLike {
  private time: number;
  private seq = 0;
  private readonly queue: Entry[] = [];

  constructor(startMs: number) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  schedule<T>(
    work: (this: SchedulerAction<T>, state?: T) => void,
    delay = 0,
    state?: T,
  ): Subscription {
    const action = new ManualAction<T>(this, work, state);
    this.enqueue(action as ManualAction<unknown>, delay);
    return action;
  }

  /** @internal */
  enqueue(action: ManualAction<unknown>, delay: number): void {
    const i = this.queue.findIndex((e) => e.action === action);
    if (i >= 0) this.queue.splice(i, 1);
    this.queue.push({
      due: this.time + Math.max(0, delay),
      seq: this.seq++,
      action,
    });
    this.queue.sort((a, b) => a.due - b.due || a.seq - b.seq);
  }

  /** Lets pending promise chains run (several macrotask turns). */
  async settle(): Promise<void> {
    for (let i = 0; i < 10; i++)
      await new Promise<void>((r) => setImmediate(r));
  }

  /** Moves time to `ms`, running every timer due on the way, in order, settling after each. */
  async advanceTo(ms: number): Promise<void> {
    await this.settle();
    for (;;) {
      const next = this.queue[0];
      if (next === undefined || next.due > ms) break;
      this.queue.shift();
      this.time = Math.max(this.time, next.due);
      next.action.run();
      await this.settle();
    }
    this.time = Math.max(this.time, ms);
    await this.settle();
  }

  /** {@link advanceTo} `now() + ms`. */
  advanceBy(ms: number): Promise<void> {
    return this.advanceTo(this.time + ms);
  }

  /** Timers not yet run (and not cancelled). */
  get pending(): number {
    return this.queue.filter((e) => !e.action.closed).length;
  }
}

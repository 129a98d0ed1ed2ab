import type { ActionLog } from "../action-log.js";
import type { Sender } from "../sender.js";

/** A switch that, once thrown, freezes everything wrapped by it, as a killed process would stop. */
export interface Crash {
  readonly crashed: boolean;
  crash(): void;
}

/**
 * A crash switch for tests.
 *
 * @example
 * ```ts
 * const crash = crashSwitch();
 * const log = crashableLog(memoryLog, crash);
 * ```
 */
export function crashSwitch(): Crash {
  let crashed = false;
  return {
    get crashed() {
      return crashed;
    },
    crash() {
      crashed = true;
    },
  };
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/**
 * Wraps an action log so that after the crash no call completes (nothing more is written),
 * like a process that died mid-batch.
 *
 * @example
 * ```ts
 * const log = crashableLog(memoryActionLog(), crash);
 * ```
 */
export function crashableLog(log: ActionLog, crash: Crash): ActionLog {
  const gate =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      if (crash.crashed) return never<R>();
      const r = await fn(...a);
      return crash.crashed ? never<R>() : r;
    };
  return {
    name: log.name,
    plan: gate(log.plan.bind(log)),
    planMany: gate(log.planMany.bind(log)),
    attempt: gate(log.attempt.bind(log)),
    confirm: gate(log.confirm.bind(log)),
    fail: gate(log.fail.bind(log)),
    get: gate(log.get.bind(log)),
    listFiring: gate(log.listFiring.bind(log)),
    close: () => log.close(),
  };
}

/**
 * Wraps a sender so that the crash happens right after the `afterSends`-th send succeeded
 * at the provider and before its result is seen: the message went out, the confirm never
 * comes. Sends already in flight still reach the provider; later ones never start.
 *
 * @example
 * ```ts
 * const sender = crashingSender(smtp, crash, 7);
 * ```
 */
export function crashingSender<M>(
  sender: Sender<M>,
  crash: Crash,
  afterSends: number,
): Sender<M> {
  let sent = 0;
  return {
    provider: sender.provider,
    idempotentByKey: sender.idempotentByKey,
    async send(message, key) {
      if (crash.crashed) return never();
      const r = await sender.send(message, key);
      sent += 1;
      if (sent >= afterSends) crash.crash();
      return crash.crashed ? never() : r;
    },
  };
}

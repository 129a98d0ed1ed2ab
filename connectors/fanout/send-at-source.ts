import {
  asapScheduler,
  asyncScheduler,
  scheduled,
  Observable,
  of,
  type SchedulerLike,
  type Subscription,
} from "rxjs";
import { countedAck } from "../../operators/internal/counted-ack.js";
import type { Record } from "../../operators/record.js";
import type { SluiceError } from "../../operators/sluice-error.js";
import { toSluiceError } from "../../operators/sluice-error.js";
import type { AssignmentEvent, Source } from "../types.js";
import type { ClaimedItem, SendAtQueue } from "./send-at-queue.js";

/** Options of {@link sendAtSource}. */
export interface SendAtSourceOptions {
  /** How often to look for due items when none is known to be due. Default 1 000. */
  readonly pollMs?: number;
  /** Items claimed per round trip. Default 100. */
  readonly batch?: number;
  /** Lease of a claimed item: unsettled after this, it is handed out again. Default 300 000. */
  readonly leaseMs?: number;
  /** Most unsettled items at once. Default 1 000. */
  readonly maxInFlight?: number;
  /** Complete when the queue holds no item that is not done (a bounded run). Default false. */
  readonly stopWhenEmpty?: boolean;
  /** After a nack, the item is due again this much later. Default 60 000. */
  readonly retryDelayMs?: number;
  /** Clock. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Due items of a {@link SendAtQueue} as a source: each record (key = item id, timestamp =
 * due time) holds a lease; its ack completes the item, a nack releases it to be due again
 * after `retryDelayMs`. An item whose process dies is handed out again when its lease ends.
 *
 * @example
 * ```ts
 * const due = sendAtSource(queue, { scheduler, stopWhenEmpty: true });
 * due.records().pipe(map((r) => derive(r, toDelivery(r.value))), deliverOnce(options));
 * ```
 */
export function sendAtSource<T>(
  queue: SendAtQueue<T>,
  options: SendAtSourceOptions = {},
): Source<T> & { readonly claimed: number } {
  const scheduler = options.scheduler ?? asyncScheduler;
  const pollMs = options.pollMs ?? 1_000;
  const batch = options.batch ?? 100;
  const leaseMs = options.leaseMs ?? 300_000;
  const maxInFlight = options.maxInFlight ?? 1_000;
  const retryDelayMs = options.retryDelayMs ?? 60_000;
  const name = `send-at:${queue.name}`;
  let inFlight = 0;
  let claimed = 0;
  let paused = false;
  let closed = false;
  let seq = 0;
  let timer: Subscription | undefined;
  let wake: (() => void) | undefined;
  let chain: Promise<void> = Promise.resolve();
  let complete: (() => void) | undefined;

  const records = new Observable<Record<T>>((subscriber) => {
    complete = () => subscriber.complete();
    const poll = async (): Promise<void> => {
      timer = undefined;
      if (closed || subscriber.closed) return;
      if (!paused && inFlight < maxInFlight) {
        const now = scheduler.now();
        const items = await queue.claim(
          now,
          Math.min(batch, maxInFlight - inFlight),
          leaseMs,
        );
        for (const item of items) emit(item);
        if (items.length > 0) return schedule(0);
        if (
          options.stopWhenEmpty === true &&
          inFlight === 0 &&
          (await queue.pending()) === 0
        ) {
          subscriber.complete();
          return;
        }
        const next = await queue.nextDueAt();
        const wait =
          next !== undefined && next > now
            ? Math.min(pollMs, next - now)
            : pollMs;
        return schedule(wait);
      }
      schedule(pollMs);
    };
    const schedule = (delay: number): void => {
      if (closed || subscriber.closed) return;
      timer?.unsubscribe();
      timer = scheduler.schedule(() => {
        chain = chain
          .then(poll)
          .catch((e: unknown) =>
            subscriber.error(toSluiceError(e, "CONNECTION")),
          );
      }, delay);
    };
    wake = () => schedule(0);
    const emit = (item: ClaimedItem<T>): void => {
      inFlight += 1;
      claimed += 1;
      const onSettled = (error?: SluiceError): void => {
        const now = scheduler.now();
        const settle =
          error === undefined
            ? queue.complete(item, now)
            : queue.release(item, now, now + retryDelayMs);
        settle
          .then(() => {
            inFlight -= 1;
            wake?.();
          })
          .catch((e: unknown) =>
            subscriber.error(toSluiceError(e, "CONNECTION")),
          );
      };
      const ack = countedAck({ done: () => onSettled(), failed: onSettled });
      subscriber.next({
        key: item.id,
        value: item.payload,
        timestamp: item.dueAt,
        headers: {
          "sluice-send-at-id": item.id,
          "sluice-attempt": String(item.attempts),
        },
        origin: { topic: name, partition: 0, offset: seq++ },
        ack,
      });
    };
    schedule(0);
    return () => {
      timer?.unsubscribe();
      closed = true;
    };
  });

  return {
    name,
    get inFlight() {
      return inFlight;
    },
    get claimed() {
      return claimed;
    },
    connect: () => Promise.resolve(),
    records: () => records,
    assignments: (): Observable<AssignmentEvent> =>
      scheduled(
        of<AssignmentEvent>({
          type: "assigned",
          partitions: [{ topic: name, partition: 0 }],
        }),
        asapScheduler,
      ),
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      wake?.();
    },
    snapshot: () => [],
    commit: () => Promise.resolve(),
    async close() {
      closed = true;
      timer?.unsubscribe();
      await chain;
      complete?.();
    },
  };
}

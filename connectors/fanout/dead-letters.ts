import { concatMap, type Observable } from "rxjs";
import type { DeadLetter } from "../../operators/dead-letter.js";
import type { Record } from "../../operators/record.js";

/** A dead-letter sink that keeps the letters in memory (demo, tests) and an optional writer. */
export interface CollectedDeadLetters<T> {
  /** Every dead letter so far, in arrival order. */
  readonly letters: DeadLetter<T>[];
  /** Pass as `deliverOnce`'s / `deadLetter`'s `sink`: stores and acks each letter. */
  readonly sink: (
    deadLetters: Observable<Record<DeadLetter<T>>>,
  ) => Observable<unknown>;
}

/**
 * Collects dead letters (and acks them) for the embedded demo and tests; with `write`, each
 * letter is also written (e.g. `postgresDeadLetters(db).write`) before it is acked.
 *
 * @example
 * ```ts
 * const dead = collectDeadLetters<Delivery<Email>>();
 * deliveries$.pipe(deliverOnce({ log, sender, deadLetters: dead.sink }));
 * dead.letters.map((d) => d.reason.message);
 * ```
 */
export function collectDeadLetters<T>(
  write?: (letter: DeadLetter<T>) => Promise<void>,
): CollectedDeadLetters<T> {
  const letters: DeadLetter<T>[] = [];
  return {
    letters,
    // A letter that cannot be written errors the stream: it must not vanish.
    sink: (dl$) =>
      dl$.pipe(
        concatMap(async (r) => {
          if (write !== undefined) await write(r.value);
          letters.push(r.value);
          r.ack.ack();
        }),
      ),
  };
}

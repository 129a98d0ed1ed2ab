import {
  catchError,
  concatMap,
  map,
  of,
  tap,
  throwError,
  timer,
  type Observable,
} from "rxjs";
import { describe, expect, it } from "vitest";
import { CommitTracker } from "./commit-tracker.js";
import { deadLetter, type DeadLetter } from "./dead-letter.js";
import { rec, testScheduler } from "./internal/testing/records.js";
import type { Outcome } from "./outcome.js";
import { derive, type Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";

const ok = (r: Record<number>): Outcome<number, number> => ({
  kind: "ok",
  record: derive(r, r.value * 10),
});
const bad = (
  r: Record<number>,
  code: "PROCESS" | "TIMEOUT" = "PROCESS",
): Outcome<number, number> => ({
  kind: "failed",
  record: r,
  error: new SluiceError(code, "step failed", {
    retryable: code === "TIMEOUT",
  }),
  stage: "process",
  attempts: 3,
});
const values = map((r: Record<number>) => r.value);
const codeOnError = catchError((e: SluiceError) => of(`#${e.code}`));

/** A dead-letter sink that stores and acks each dead letter after 1 ms. */
function storingSink(stored: Record<DeadLetter<number>>[]) {
  return (dl$: Observable<Record<DeadLetter<number>>>) =>
    dl$.pipe(
      concatMap((d) => timer(1).pipe(map(() => d))),
      tap((d) => {
        stored.push(d);
        d.ack.ack();
      }),
    );
}

describe("deadLetter", () => {
  it("completes at once on an empty source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Outcome<number, number>>("|").pipe(deadLetter({ policy: "SKIP" })),
      ).toBe("|");
    });
  });

  it("passes one success through as its record", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("a|", { a: ok(rec("x", 1)) });
      expectObservable(src.pipe(deadLetter({ policy: "SKIP" }), values)).toBe(
        "a|",
        { a: 10 },
      );
    });
  });

  it("sends failures to the sink with their reason while the main output continues", () => {
    const stored: Record<DeadLetter<number>>[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("abc|", {
        a: ok(rec("x", 1)),
        b: bad(rec("y", 2, 7)),
        c: ok(rec("z", 3)),
      });
      expectObservable(
        src.pipe(
          deadLetter({ policy: "DEAD_LETTER", sink: storingSink(stored) }),
          values,
        ),
      ).toBe("a-c|", { a: 10, c: 30 });
    });
    expect(stored.map((d) => d.value)).toEqual([
      {
        value: 2,
        reason: {
          code: "PROCESS",
          message: "step failed",
          retryable: false,
          stage: "process",
          origin: { topic: "t", partition: 0, offset: 7 },
          key: "y",
          attempts: 3,
        },
      },
    ]);
  });

  it("waits for the dead-letter sink to finish before completing", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("a|", { a: bad(rec("y", 2)) });
      // The source ends at 1 ms, the sink stores its dead letter at 4 ms.
      const sink = (dl$: Observable<Record<DeadLetter<number>>>) =>
        dl$.pipe(concatMap(() => timer(4)));
      expectObservable(
        src.pipe(deadLetter({ policy: "DEAD_LETTER", sink })),
      ).toBe("----|");
    });
  });

  it("lets the dead-letter sink settle the original record's handle", () => {
    const tracker = new CommitTracker("t", 0);
    const stored: Record<DeadLetter<number>>[] = [];
    const a = rec("x", 1, 0, tracker.track(0));
    const b = rec("y", 2, 1, tracker.track(1));
    const out: Record<number>[] = [];
    testScheduler().run(({ cold }) =>
      cold("ab|", { a: ok(a), b: bad(b) })
        .pipe(deadLetter({ policy: "DEAD_LETTER", sink: storingSink(stored) }))
        .subscribe((r) => out.push(r)),
    );
    expect(stored[0]!.ack).toBe(b.ack);
    expect(tracker.committable).toBeUndefined();
    out[0]!.ack.ack();
    expect(tracker.committable).toBe(2);
  });

  it("acks and counts skipped records", () => {
    const tracker = new CommitTracker("t", 0);
    const dl = deadLetter<number, number>({ policy: "SKIP" });
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("ab|", {
        a: bad(rec("x", 1, 0, tracker.track(0))),
        b: bad(rec("x", 2, 1, tracker.track(1)), "TIMEOUT"),
      });
      expectObservable(src.pipe(dl)).toBe("--|");
    });
    expect(tracker.committable).toBe(2);
    expect(dl.counters.skipped).toBe(2);
    expect(Object.fromEntries(dl.counters.byCode)).toEqual({
      PROCESS: 1,
      TIMEOUT: 1,
    });
  });

  it("ends the stream and nacks the record under the FAIL policy", () => {
    const tracker = new CommitTracker("t", 0);
    const nacked: number[] = [];
    tracker.onNack((offset) => nacked.push(offset));
    const dl = deadLetter<number, number>({ policy: "FAIL" });
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("ab|", {
        a: ok(rec("x", 1)),
        b: bad(rec("x", 2, 0, tracker.track(0))),
      });
      expectObservable(src.pipe(dl, values, codeOnError)).toBe("a(b|)", {
        a: 10,
        b: "#PROCESS",
      });
    });
    expect(nacked).toEqual([0]);
    expect(dl.counters.failed).toBe(1);
  });

  it("lets a handler choose the policy per failure", () => {
    const stored: Record<DeadLetter<number>>[] = [];
    const dl = deadLetter<number, number>({
      policy: (f) => (f.error.retryable ? "SKIP" : "DEAD_LETTER"),
      sink: storingSink(stored),
    });
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("ab|", {
        a: bad(rec("x", 1), "TIMEOUT"),
        b: bad(rec("x", 2)),
      });
      expectObservable(src.pipe(dl)).toBe("--|");
    });
    expect([
      dl.counters.skipped,
      dl.counters.deadLettered,
      stored.length,
    ]).toEqual([1, 1, 1]);
  });

  it("forwards a source error", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a#", { a: ok(rec("x", 1)) }).pipe(
          deadLetter({ policy: "SKIP" }),
          values,
        ),
      ).toBe("a#", { a: 10 });
    });
  });

  it("ends the stream when the dead-letter sink fails", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("ab-c|", {
        a: ok(rec("x", 1)),
        b: bad(rec("x", 2)),
        c: ok(rec("x", 3)),
      });
      const sink = (dl$: Observable<unknown>) =>
        dl$.pipe(
          concatMap(() =>
            throwError(() => new SluiceError("UNAVAILABLE", "dlq down")),
          ),
        );
      expectObservable(
        src.pipe(
          deadLetter({ policy: "DEAD_LETTER", sink }),
          values,
          codeOnError,
        ),
      ).toBe("a(b|)", { a: 10, b: "#UNAVAILABLE" });
    });
  });

  it("keeps running on a never-ending source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a-", { a: ok(rec("x", 1)) }).pipe(
          deadLetter({ policy: "SKIP" }),
          values,
        ),
      ).toBe("a-", { a: 10 });
    });
  });

  it("unsubscribes from the source and the sink on early unsubscribe", () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("a-b-|", { a: ok(rec("x", 1)), b: ok(rec("x", 2)) });
      const dlq = cold("-");
      expectObservable(
        src.pipe(
          deadLetter({ policy: "DEAD_LETTER", sink: () => dlq }),
          values,
        ),
        "^-!",
      ).toBe("a-", { a: 10 });
      expectSubscriptions(src.subscriptions).toBe("^-!");
      expectSubscriptions(dlq.subscriptions).toBe("^-!");
    });
  });

  it("ends the stream when the policy handler throws", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const policy = (): "SKIP" => {
        throw new SluiceError("INTERNAL", "handler bug");
      };
      expectObservable(
        cold("a|", { a: bad(rec("x", 1)) }).pipe(
          deadLetter({ policy }),
          codeOnError,
        ),
      ).toBe("(a|)", { a: "#INTERNAL" });
    });
  });

  it("refuses a DEAD_LETTER policy without a sink, naming the field", () => {
    expect(() => deadLetter({ policy: "DEAD_LETTER" })).toThrow(
      /deadLetter.sink/,
    );
  });
});

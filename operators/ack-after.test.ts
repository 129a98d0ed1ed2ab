import fc from "fast-check";
import {
  EMPTY,
  NEVER,
  catchError,
  from,
  lastValueFrom,
  map,
  of,
  throwError,
  toArray,
} from "rxjs";
import { describe, expect, it } from "vitest";
import { ackAfter } from "./ack-after.js";
import { counted, trackedRecords } from "./internal/testing/acks.js";
import { testScheduler } from "./internal/testing/records.js";
import type { Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";

const showError = catchError((e: unknown) =>
  of(e instanceof SluiceError ? `${e.code} ${e.message}` : "?"),
);

describe("ackAfter", () => {
  it("completes at once on an empty source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Record<number>>("|").pipe(ackAfter(() => undefined)),
      ).toBe("|");
    });
  });

  it("acks one record when its synchronous handler returns", () => {
    const a = counted(1);
    const seen: number[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a|", { a }).pipe(ackAfter((r) => void seen.push(r.value))),
      ).toBe("-|");
    });
    expect(seen).toEqual([1]);
    expect(a.ack.acks).toBe(1);
  });

  it("acks each of many records only when what its handler returned completes, one at a time by default, and emits what it emitted", () => {
    const rs = [1, 2].map((v, i) => counted(v, i));
    testScheduler().run(({ cold, expectObservable, flush }) => {
      const out = cold("ab|", { a: rs[0]!, b: rs[1]! }).pipe(
        ackAfter((r) => cold("--x|", { x: r.value * 10 })),
      );
      expectObservable(out).toBe("--x--y|", { x: 10, y: 20 });
      flush();
    });
    expect(rs.map((r) => r.ack.acks)).toEqual([1, 1]);
  });

  it("runs up to `concurrency` handlers at once", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const out = cold("ab|", { a: counted(1), b: counted(2) }).pipe(
        ackAfter((r) => cold("--x|", { x: r.value }), { concurrency: 2 }),
      );
      expectObservable(out).toBe("--xy|", { x: 1, y: 2 });
    });
  });

  it("awaits a promise and acks after it resolves", async () => {
    const a = counted(3);
    const out = await lastValueFrom(
      of(a).pipe(
        ackAfter((r) => Promise.resolve(r.value + 1)),
        toArray(),
      ),
    );
    expect(out).toEqual([4]);
    expect(a.ack.acks).toBe(1);
  });

  it("forwards a source error after what came before", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a#", { a: counted(1) }).pipe(ackAfter((r) => of(r.value))),
      ).toBe("a#", { a: 1 });
    });
  });

  it("does not complete while the source does not", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a-", { a: counted(1) }).pipe(ackAfter((r) => of(r.value))),
      ).toBe("a-", { a: 1 });
    });
  });

  it("leaves a record whose handler is cut short by an unsubscribe unsettled, to be delivered again", () => {
    const a = counted(1);
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("a-b|", { a, b: counted(2) });
      expectObservable(src.pipe(ackAfter(() => NEVER)), "^-!").toBe("---");
      expectSubscriptions(src.subscriptions).toBe("^-!");
    });
    expect(a.ack.acks + a.ack.nacks.length).toBe(0);
  });

  it("nacks the record and errors the stream when the handler throws and there is no onError", () => {
    const a = counted(1, 4);
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a|", { a }).pipe(
          ackAfter(() => {
            throw new Error("handler failed");
          }),
          showError,
        ),
      ).toBe("(e|)", { e: "PROCESS handler failed" });
    });
    expect(a.ack.nacks.map((e) => e.context.offset)).toEqual([4]);
    expect(a.ack.acks).toBe(0);
  });

  it("with onError, nacks a failed record, reports it and goes on with the next", () => {
    const rs = [1, 2, 3].map((v, i) => counted(v, i));
    const reported: string[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("abc|", { a: rs[0]!, b: rs[1]!, c: rs[2]! }).pipe(
          ackAfter(
            (r) =>
              r.value === 2
                ? throwError(
                    () => new SluiceError("CONFLICT", "held elsewhere"),
                  )
                : of(r.value),
            {
              onError: (e, r) => reported.push(`${r.value} ${e.code}`),
            },
          ),
        ),
      ).toBe("a-c|", { a: 1, c: 3 });
    });
    expect(reported).toEqual(["2 CONFLICT"]);
    expect(rs.map((r) => [r.ack.acks, r.ack.nacks.length])).toEqual([
      [1, 0],
      [0, 1],
      [1, 0],
    ]);
  });

  it("ends the stream when onError throws", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("ab|", { a: counted(1), b: counted(2) }).pipe(
          ackAfter(
            () => {
              throw new Error("first");
            },
            {
              onError: (e) => {
                throw new SluiceError("PROCESS", `fatal: ${e.message}`);
              },
            },
          ),
          map(String),
          showError,
        ),
      ).toBe("(e|)", { e: "PROCESS fatal: first" });
    });
  });

  it("refuses a concurrency that is not a positive integer, naming the field", () => {
    expect(() => ackAfter(() => EMPTY, { concurrency: 0 })).toThrow(
      /concurrency must be a positive integer, got 0/,
    );
  });

  it("property: the commit point reaches the end iff every handler succeeded", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        async (succeeds, concurrency) => {
          const { tracker, records } = trackedRecords(succeeds);
          await lastValueFrom(
            from(records).pipe(
              ackAfter(
                (r) =>
                  r.value ? Promise.resolve() : Promise.reject(new Error("no")),
                { concurrency, onError: () => undefined },
              ),
            ),
            { defaultValue: undefined },
          );
          const end = records.length === 0 ? undefined : records.length;
          expect(tracker.committable === end).toBe(succeeds.every(Boolean));
        },
      ),
    );
  });
});

import fc from "fast-check";
import { catchError, map, of } from "rxjs";
import { describe, expect, it } from "vitest";
import { CommitTracker } from "./commit-tracker.js";
import { rec, testScheduler } from "./internal/testing/records.js";
import { pressureGauge } from "./pressure-gauge.js";
import { rateLimit } from "./rate-limit.js";
import type { Record } from "./record.js";
import type { SluiceError } from "./sluice-error.js";
import { TokenBucket } from "./token-bucket.js";

const values = map((r: Record<string>) => r.value);
const codeOnError = catchError((e: SluiceError) => of(`#${e.code}`));
/** 100 tokens a second: one every 10 ms. */
const bucket = (burst = 2) => new TokenBucket({ ratePerSec: 100, burst });

describe("rateLimit", () => {
  it("completes at once on an empty source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold<Record<string>>("|").pipe(rateLimit({ bucket: bucket() })),
      ).toBe("|");
    });
  });

  it("passes one record at once while tokens last", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a|", { a: rec("k", "a") }).pipe(
          rateLimit({ bucket: bucket() }),
          values,
        ),
      ).toBe("a|", { a: "a" });
    });
  });

  it("lets a burst through, then paces the rest in order", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("(abcd)|", {
        a: rec("k", "a"),
        b: rec("k", "b"),
        c: rec("k", "c"),
        d: rec("k", "d"),
      });
      expectObservable(src.pipe(rateLimit({ bucket: bucket() }), values)).toBe(
        "(ab) 6ms c 9ms (d|)",
        { a: "a", b: "b", c: "c", d: "d" },
      );
    });
  });

  it("charges a record its cost", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("(ab)|", { a: rec("k", "a"), b: rec("k", "b") });
      expectObservable(
        src.pipe(rateLimit({ bucket: bucket(3), cost: () => 3 }), values),
      ).toBe("a 29ms (b|)", { a: "a", b: "b" });
    });
  });

  it("shares one bucket between two streams", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const shared = bucket(1);
      expectObservable(
        cold("a|", { a: rec("k", "a") }).pipe(
          rateLimit({ bucket: shared }),
          values,
        ),
      ).toBe("a|", { a: "a" });
      expectObservable(
        cold("b|", { b: rec("k", "b") }).pipe(
          rateLimit({ bucket: shared }),
          values,
        ),
      ).toBe("10ms (b|)", { b: "b" });
    });
  });

  it("errors with BACKPRESSURE when more than maxQueued records wait", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("(abc)|", {
        a: rec("k", "a"),
        b: rec("k", "b"),
        c: rec("k", "c"),
      });
      expectObservable(
        src.pipe(
          rateLimit({ bucket: bucket(1), maxQueued: 1 }),
          values,
          codeOnError,
        ),
      ).toBe("(ae|)", { a: "a", e: "#BACKPRESSURE" });
    });
  });

  it("signals pause while records wait for tokens", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const gauge = pressureGauge<Record<string>>({
        highCount: 1,
        lowCount: 0,
      });
      const src = cold("-(ab)|", { a: rec("k", "a"), b: rec("k", "b") });
      expectObservable(
        src.pipe(rateLimit({ bucket: bucket(1), gauge }), values),
      ).toBe("-a 9ms (b|)", { a: "a", b: "b" });
      expectObservable(gauge.signal$).toBe("rp 9ms r", {
        p: "pause",
        r: "resume",
      });
    });
  });

  it("refuses a cost larger than the burst", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a|", { a: rec("k", "a") }).pipe(
          rateLimit({ bucket: bucket(2), cost: () => 5 }),
          codeOnError,
        ),
      ).toBe("(e|)", { e: "#CONFIG" });
    });
  });

  it("forwards an error from a cost function that throws", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const cost = (): number => {
        throw new Error("bad cost");
      };
      expectObservable(
        cold("a|", { a: rec("k", "a") }).pipe(
          rateLimit({ bucket: bucket(), cost }),
        ),
      ).toBe("#", undefined, new Error("bad cost"));
    });
  });

  it("forwards a source error", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a#", { a: rec("k", "a") }).pipe(
          rateLimit({ bucket: bucket() }),
          values,
        ),
      ).toBe("a#", { a: "a" });
    });
  });

  it("keeps running on a never-ending source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a-", { a: rec("k", "a") }).pipe(
          rateLimit({ bucket: bucket() }),
          values,
        ),
      ).toBe("a-", { a: "a" });
    });
  });

  it("gives back the tokens of held records on early unsubscribe", () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const b = bucket(1);
      const src = cold("(ab)|", { a: rec("k", "a"), b: rec("k", "b") });
      expectObservable(src.pipe(rateLimit({ bucket: b }), values), "^--!").toBe(
        "a",
        { a: "a" },
      );
      expectSubscriptions(src.subscriptions).toBe("^--!");
      // b's reservation is refunded at 3: the bucket is back to where a left it.
      expectObservable(
        cold("---x|").pipe(map(() => Math.round(b.available * 100) / 100)),
      ).toBe("---x|", { x: 0.3 });
    });
  });

  it("keeps each record's ack handle", () => {
    const tracker = new CommitTracker("t", 0);
    const out: Record<string>[] = [];
    testScheduler().run(({ cold }) =>
      cold("(ab)|", {
        a: rec("k", "a", 0, tracker.track(0)),
        b: rec("k", "b", 1, tracker.track(1)),
      })
        .pipe(rateLimit({ bucket: bucket(1) }))
        .subscribe((r) => out.push(r)),
    );
    for (const r of out) r.ack.ack();
    expect(tracker.committable).toBe(2);
  });

  it("never lets more than burst + rate × time through, in order (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        (gaps, burst) => {
          const times: number[] = [];
          const order: number[] = [];
          testScheduler().run(({ cold }) => {
            const b = new TokenBucket({ ratePerSec: 100, burst });
            const marble =
              gaps
                .map((g, i) => `${g}ms ${String.fromCharCode(0x100 + i)}`)
                .join(" ") + " |";
            const vals = Object.fromEntries(
              gaps.map((_, i) => [
                String.fromCharCode(0x100 + i),
                rec("k", String(i)),
              ]),
            );
            return cold(marble, vals)
              .pipe(rateLimit({ bucket: b }))
              .subscribe((r) => {
                times.push(b.scheduler.now());
                order.push(Number(r.value));
              });
          });
          expect(order).toEqual(gaps.map((_, i) => i));
          for (let i = 0; i < times.length; i++) {
            for (let j = i; j < times.length; j++) {
              expect(j - i + 1).toBeLessThanOrEqual(
                burst + ((times[j]! - times[i]!) / 1000) * 100 + 1e-9,
              );
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

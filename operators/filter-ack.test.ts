import fc from "fast-check";
import {
  EMPTY,
  catchError,
  from,
  of,
  lastValueFrom,
  map,
  tap,
  toArray,
} from "rxjs";
import { describe, expect, it } from "vitest";
import { isRecord, late, watermark } from "./element.js";
import type { Element, Late } from "./element.js";
import { filterAck } from "./filter-ack.js";
import { counted, trackedRecords } from "./internal/testing/acks.js";
import { testScheduler } from "./internal/testing/records.js";
import type { Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";

const values = map((r: Record<number>) => r.value);
const even = (r: Record<number>) => r.value % 2 === 0;

describe("filterAck", () => {
  it("completes at once on an empty source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Record<number>>("|").pipe(filterAck(even))).toBe(
        "|",
      );
    });
  });

  it("passes one accepted record through without settling it", () => {
    const a = counted(2);
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold("a|", { a }).pipe(filterAck(even), values)).toBe(
        "a|",
        { a: 2 },
      );
    });
    expect(a.ack.acks).toBe(0);
  });

  it("keeps the accepted records of many in order and acks each dropped one once", () => {
    const rs = [1, 2, 3, 4, 5].map((v, i) => counted(v, i));
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("abcde|", {
        a: rs[0]!,
        b: rs[1]!,
        c: rs[2]!,
        d: rs[3]!,
        e: rs[4]!,
      });
      expectObservable(src.pipe(filterAck(even), values)).toBe("-b-d-|", {
        b: 2,
        d: 4,
      });
    });
    expect(rs.map((r) => r.ack.acks)).toEqual([1, 0, 1, 0, 1]);
  });

  it("forwards a source error after what came before", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("ab#", { a: counted(2), b: counted(3) }).pipe(
          filterAck(even),
          values,
        ),
      ).toBe("a-#", { a: 2 });
    });
  });

  it("does not complete while the source does not", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a-", { a: counted(2) }).pipe(filterAck(even), values),
      ).toBe("a-", { a: 2 });
    });
  });

  it("unsubscribes from the source when the consumer does, and settles nothing after", () => {
    const rs = [1, 3, 5].map((v, i) => counted(v, i));
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("a-b-c|", { a: rs[0]!, b: rs[1]!, c: rs[2]! });
      expectObservable(src.pipe(filterAck(even)), "^-!").toBe("---");
      expectSubscriptions(src.subscriptions).toBe("^-!");
    });
    expect(rs.map((r) => r.ack.acks)).toEqual([1, 0, 0]);
  });

  it("nacks the record and errors the stream with a PROCESS SluiceError naming its origin when the predicate throws", () => {
    const a = counted(1, 7);
    testScheduler().run(({ cold, expectObservable }) => {
      const out = cold("a|", { a }).pipe(
        filterAck(() => {
          throw new Error("boom");
        }),
        catchError((e: unknown) =>
          of(e instanceof SluiceError ? `${e.code} ${e.message}` : "?"),
        ),
      );
      expectObservable(out).toBe("(x|)", { x: "PROCESS boom" });
    });
    expect(a.ack.acks).toBe(0);
    expect(a.ack.nacks).toHaveLength(1);
    expect(a.ack.nacks[0]!.code).toBe("PROCESS");
    expect(a.ack.nacks[0]!.context).toMatchObject({ partition: 0, offset: 7 });
  });

  it("acks the record of a dropped Late element and drops watermarks, so filterAck(isRecord) strands nothing", async () => {
    const onTime = counted(1, 0);
    const tooLate = counted(2, 1);
    const input: (Element<number> | Late<number>)[] = [
      onTime,
      watermark(10),
      late(tooLate),
    ];
    const out = await lastValueFrom(
      from(input).pipe(filterAck(isRecord), toArray()),
    );
    expect(out).toEqual([onTime]);
    expect(onTime.ack.acks).toBe(0);
    expect(tooLate.ack.acks).toBe(1);
  });

  it("narrows the element type with a type guard", async () => {
    const out: Record<number>[] = await lastValueFrom(
      EMPTY.pipe(
        filterAck((e: Element<number>): e is Record<number> => isRecord(e)),
        toArray(),
      ),
    );
    expect(out).toEqual([]);
  });

  it("property: the commit point reaches the end iff every record it keeps is acked downstream", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { maxLength: 60 }),
        fc.array(fc.boolean(), { maxLength: 60 }),
        async (keepFlags, ackFlags) => {
          const { tracker, records } = trackedRecords(keepFlags);
          let kept = 0;
          let allAcked = true;
          await lastValueFrom(
            from(records).pipe(
              filterAck((r) => r.value),
              tap((r) => {
                const ack =
                  ackFlags[kept++ % Math.max(ackFlags.length, 1)] ?? true;
                if (ack) r.ack.ack();
                else allAcked = false;
              }),
              toArray(),
            ),
          );
          const end = records.length === 0 ? undefined : records.length;
          expect(tracker.committable === end).toBe(allAcked);
        },
      ),
    );
  });
});

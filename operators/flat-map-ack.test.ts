import fc from "fast-check";
import { catchError, from, lastValueFrom, map, of, tap, toArray } from "rxjs";
import { describe, expect, it } from "vitest";
import { flatMapAck } from "./flat-map-ack.js";
import { counted, trackedRecords } from "./internal/testing/acks.js";
import { testScheduler } from "./internal/testing/records.js";
import { derive } from "./record.js";
import type { Record } from "./record.js";
import { SluiceError } from "./sluice-error.js";

/** n copies of the value, keyed by index. */
const copies = (r: Record<number>) =>
  Array.from({ length: r.value }, (_, i) =>
    derive(r, `${r.value}.${i}`, { key: `k${i}` }),
  );
const values = map((r: Record<string>) => r.value);

describe("flatMapAck", () => {
  it("completes at once on an empty source", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Record<number>>("|").pipe(flatMapAck(copies))).toBe(
        "|",
      );
    });
  });

  it("emits one input's outputs together, in order, with their own keys and the input's origin", async () => {
    const a = counted(3, 5, "in");
    const out = await lastValueFrom(of(a).pipe(flatMapAck(copies), toArray()));
    expect(out.map((r) => [r.value, r.key, r.origin?.offset])).toEqual([
      ["3.0", "k0", 5],
      ["3.1", "k1", 5],
      ["3.2", "k2", 5],
    ]);
    expect(a.ack.retained).toBe(2);
  });

  it("acks an input with no outputs at once and settles the others only when all their outputs are acked", () => {
    const rs = [2, 0, 1].map((v, i) => counted(v, i));
    const outputs: Record<string>[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold("a---bc|", { a: rs[0]!, b: rs[1]!, c: rs[2]! });
      expectObservable(
        src.pipe(
          flatMapAck(copies),
          tap((r) => outputs.push(r)),
          values,
        ),
      ).toBe("(ab)-c|", { a: "2.0", b: "2.1", c: "1.0" });
    });
    expect(rs.map((r) => r.ack.settled)).toEqual([false, true, false]);
    outputs[0]!.ack.ack();
    outputs[0]!.ack.ack(); // a second ack of one output does not count for its sibling
    expect(rs[0]!.ack.settled).toBe(false);
    outputs[1]!.ack.ack();
    outputs[2]!.ack.ack();
    expect(rs.map((r) => r.ack.settled)).toEqual([true, true, true]);
  });

  it("nacks the input when one of its outputs is nacked", async () => {
    const a = counted(2);
    const out = await lastValueFrom(of(a).pipe(flatMapAck(copies), toArray()));
    out[0]!.ack.ack();
    out[1]!.ack.nack(new SluiceError("UNAVAILABLE", "sink down"));
    expect(a.ack.nacks.map((e) => e.code)).toEqual(["UNAVAILABLE"]);
  });

  it("forwards a source error after what came before", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a#", { a: counted(1) }).pipe(flatMapAck(copies), values),
      ).toBe("a#", { a: "1.0" });
    });
  });

  it("does not complete while the source does not", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a-", { a: counted(1) }).pipe(flatMapAck(copies), values),
      ).toBe("a-", { a: "1.0" });
    });
  });

  it("unsubscribes from the source when the consumer does", () => {
    const rs = [0, 0, 0].map((v, i) => counted(v, i));
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("a-b-c|", { a: rs[0]!, b: rs[1]!, c: rs[2]! });
      expectObservable(src.pipe(flatMapAck(copies)), "^-!").toBe("---");
      expectSubscriptions(src.subscriptions).toBe("^-!");
    });
    expect(rs.map((r) => r.ack.acks)).toEqual([1, 0, 0]);
  });

  it("nacks the input and errors the stream with a PROCESS SluiceError when project throws", () => {
    const a = counted(1, 3);
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold("a|", { a }).pipe(
          flatMapAck((): Record<string>[] => {
            throw new Error("bad line");
          }),
          map(() => "out"),
          catchError((e: unknown) =>
            of(e instanceof SluiceError ? `${e.code} ${e.message}` : "?"),
          ),
        ),
      ).toBe("(x|)", { x: "PROCESS bad line" });
    });
    expect(a.ack.nacks.map((e) => e.context.offset)).toEqual([3]);
    expect(a.ack.acks).toBe(0);
  });

  it("property: the commit point reaches the end iff every output is acked", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: 4 }), { maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 50 }),
        fc.boolean(),
        async (fanOuts, ackFlags, reverse) => {
          const { tracker, records } = trackedRecords(fanOuts);
          const outs = await lastValueFrom(
            from(records).pipe(flatMapAck(copies), toArray()),
          );
          // Settle in emission order or backwards (completion out of order).
          const order = reverse ? [...outs].reverse() : outs;
          let allAcked = true;
          order.forEach((o, i) => {
            if (ackFlags[i % ackFlags.length]!) o.ack.ack();
            else allAcked = false;
          });
          const end = records.length === 0 ? undefined : records.length;
          expect(tracker.committable === end).toBe(allAcked);
        },
      ),
    );
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { SluiceError } from "../../operators/sluice-error.js";
import type { Sink } from "../types.js";
import type { ConformanceOptions, SinkHarness } from "./harness.js";
import { expectPerKeyOrder, testRecords, values } from "./helpers.js";

/**
 * Registers the sink conformance suite: connect/close idempotent, write after close fails
 * with `CLOSED`, N written → N read back, per-key order kept, a sane `maxInFlight`.
 *
 * @example
 * ```ts
 * sinkConformance("memory", async () => {
 *   const topic = `sink-${++n}`;
 *   log.createTopic(topic, { partitions: 3 });
 *   return {
 *     topic,
 *     createSink: async () => memorySink<string>(log, { topic }),
 *     readBack: async () => readAll(log, topic),
 *     cleanup: async () => {},
 *   };
 * });
 * ```
 */
export function sinkConformance(
  name: string,
  factory: () => Promise<SinkHarness>,
  options: ConformanceOptions = {},
): void {
  void options;
  describe(`${name} sink conformance`, () => {
    const open: Sink<string>[] = [];
    let harness: SinkHarness | undefined;
    const setup = async (): Promise<{ h: SinkHarness; sink: Sink<string> }> => {
      harness = await factory();
      const sink = await harness.createSink();
      open.push(sink);
      return { h: harness, sink };
    };
    afterEach(async () => {
      await Promise.all(
        open.splice(0).map((s) => s.close().catch(() => undefined)),
      );
      await harness?.cleanup();
      harness = undefined;
    });

    it("connects and closes idempotently and rejects writes after close with CLOSED", async () => {
      const { sink } = await setup();
      expect(Number.isInteger(sink.maxInFlight) && sink.maxInFlight >= 1).toBe(
        true,
      );
      await sink.connect();
      await sink.connect();
      await sink.write([]);
      await sink.close();
      await sink.close();
      const error = await sink.write([{ key: "k", value: "v" }]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SluiceError);
      expect((error as SluiceError).code).toBe("CLOSED");
    });

    it("writes every record: N in, N read back, per-key order kept", async () => {
      const { h, sink } = await setup();
      await sink.connect();
      const input = testRecords(60, 6, "sink");
      for (let i = 0; i < input.length; i += 7) {
        await sink.write(
          input.slice(i, i + 7).map((r) => ({ ...r, topic: h.topic })),
        );
      }
      await sink.flush();
      const back = await h.readBack(input.length);
      expect(values(back).sort()).toEqual(values(input).sort());
      expectPerKeyOrder(back);
    });
  });
}

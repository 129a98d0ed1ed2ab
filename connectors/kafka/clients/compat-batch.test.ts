import { describe, expect, it } from "vitest";
import { fetchedBatch } from "./compat-batch.js";
import type { KafkaJsCompatibleBatchPayload } from "./compat-batch.js";
import { headersToStrings } from "./headers.js";

describe("headersToStrings", () => {
  it("decodes buffers as UTF-8, keeps a repeated header's last value and leaves out missing values", () => {
    expect(
      headersToStrings({
        a: Buffer.from("é1", "utf8"),
        b: "two",
        c: [Buffer.from("first"), "last"],
        d: undefined,
        e: null,
        f: [],
      }),
    ).toEqual({ a: "é1", b: "two", c: "last" });
  });

  it("keeps a header named __proto__ as an ordinary entry", () => {
    const headers = headersToStrings(
      JSON.parse('{"__proto__":"evil","b":"two"}') as { [k: string]: string },
    );
    expect(Object.keys(headers)).toEqual(["__proto__", "b"]);
    expect(headers["__proto__"]).toBe("evil");
  });

  it("shares one frozen empty object for messages without headers", () => {
    const none = headersToStrings(undefined);
    expect(none).toEqual({});
    expect(Object.isFrozen(none)).toBe(true);
    expect(headersToStrings({})).toBe(none);
    expect(headersToStrings({ gone: null })).toBe(none);
  });
});

describe("fetchedBatch", () => {
  it("turns a payload's messages into driver-neutral ones and forwards resolve and isStale", () => {
    const resolved: string[] = [];
    let stale = false;
    const payload: KafkaJsCompatibleBatchPayload = {
      batch: {
        topic: "t",
        partition: 2,
        messages: [
          {
            offset: "7",
            key: Buffer.from("k"),
            value: Buffer.from("v"),
            timestamp: "1000",
            headers: { h: Buffer.from("x") },
          },
          { offset: "8", key: null, value: null, timestamp: "1001" },
        ],
      },
      resolveOffset: (o) => resolved.push(o),
      isStale: () => stale,
    };
    const b = fetchedBatch(payload);
    expect(b.topic).toBe("t");
    expect(b.partition).toBe(2);
    expect(b.messages).toEqual([
      {
        offset: 7,
        key: Buffer.from("k"),
        value: Buffer.from("v"),
        timestamp: 1000,
        headers: { h: "x" },
      },
      { offset: 8, key: null, value: null, timestamp: 1001, headers: {} },
    ]);
    b.resolve(8);
    expect(resolved).toEqual(["8"]);
    expect(b.isStale()).toBe(false);
    stale = true;
    expect(b.isStale()).toBe(true);
    expect(b.highWatermark).toBeUndefined();
  });

  it("passes the partition's high watermark on, and drops confluent's unknown -1001", () => {
    const payload = (highWatermark: string): KafkaJsCompatibleBatchPayload => ({
      batch: { topic: "t", partition: 0, highWatermark, messages: [] },
      resolveOffset: () => undefined,
      isStale: () => false,
    });
    expect(fetchedBatch(payload("42")).highWatermark).toBe(42);
    expect(fetchedBatch(payload("-1001")).highWatermark).toBeUndefined();
  });
});

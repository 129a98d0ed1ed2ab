import { describe, expect, it } from "vitest";
import { SluiceError } from "../../operators/sluice-error.js";
import type { SluiceErrorCode } from "../../operators/sluice-error.js";
import { Outages } from "./outages.js";
import type { OutageEvent } from "./outages.js";
import { retryUntilDeadline } from "./retry.js";

const fail = (code: SluiceErrorCode, retryable: boolean) =>
  new SluiceError(code, `boom ${code}`, { retryable });

/** An attempt that fails with `errors` in turn, then resolves "ok". */
function script(errors: readonly SluiceError[]) {
  let calls = 0;
  return {
    attempt: () => {
      const e = errors[calls++];
      return e === undefined ? Promise.resolve("ok") : Promise.reject(e);
    },
    calls: () => calls,
  };
}

const base = (outages: Outages) => ({
  what: "the test dependency",
  toError: (e: unknown) => e as SluiceError,
  initialBackoffMs: 1,
  maxBackoffMs: 5,
  outages,
});

describe("retryUntilDeadline", () => {
  it("waits out an outage and reports it down then up", async () => {
    const outages = new Outages();
    const events: OutageEvent[] = [];
    outages.subscribe((e) => events.push(e));
    const s = script([fail("CONNECTION", true), fail("UNAVAILABLE", true)]);
    const seen: number[] = [];
    await expect(
      retryUntilDeadline(s.attempt, {
        ...base(outages),
        deadlineMs: 5_000,
        onRetry: (_, n) => seen.push(n),
      }),
    ).resolves.toBe("ok");
    expect(s.calls()).toBe(3);
    expect(seen).toEqual([1, 2]);
    expect(events.map((e) => e.type)).toEqual(["down", "up"]);
    expect(events[1]!.outage).toMatchObject({
      what: "the test dependency",
      attempts: 2,
      lastError: "boom UNAVAILABLE",
    });
    expect(outages.current()).toEqual([]);
  });

  it("lists the outage while it is being waited out", async () => {
    const outages = new Outages();
    let during: readonly string[] = [];
    let calls = 0;
    await retryUntilDeadline(
      () => {
        calls += 1;
        if (calls === 1) return Promise.reject(fail("TIMEOUT", true));
        during = outages.current().map((o) => o.what);
        return Promise.resolve();
      },
      { ...base(outages), deadlineMs: 5_000 },
    );
    expect(during).toEqual(["the test dependency"]);
    expect(outages.current()).toEqual([]);
  });

  it("throws a non-retryable failure at once", async () => {
    const s = script([fail("CONFIG", false)]);
    await expect(
      retryUntilDeadline(s.attempt, {
        ...base(new Outages()),
        deadlineMs: 5_000,
      }),
    ).rejects.toMatchObject({ code: "CONFIG", message: "boom CONFIG" });
    expect(s.calls()).toBe(1);
  });

  it("gives up past the deadline with what it waited on, non-retryable", async () => {
    const outages = new Outages();
    const events: string[] = [];
    outages.subscribe((e) => events.push(e.type));
    const error = await retryUntilDeadline(
      () => Promise.reject(fail("CONNECTION", true)),
      { ...base(outages), deadlineMs: 30 },
    ).catch((e: unknown) => e as SluiceError);
    expect(error).toBeInstanceOf(SluiceError);
    expect(error).toMatchObject({ code: "CONNECTION", retryable: false });
    expect(error.message).toMatch(
      /^the test dependency: gave up after \d+ attempts in \d+ ms waiting for it to answer: boom CONNECTION$/,
    );
    expect(error.context.attempts).toBeGreaterThan(1);
    expect(events).toEqual(["down", "gave-up"]);
    expect(outages.current()).toEqual([]);
  });

  it("caps retries of a conflict at maxAttempts and never lists it as an outage", async () => {
    const outages = new Outages();
    const events: string[] = [];
    outages.subscribe((e) => events.push(e.type));
    const s = script(Array.from({ length: 10 }, () => fail("CONFLICT", true)));
    await expect(
      retryUntilDeadline(s.attempt, {
        ...base(outages),
        deadlineMs: 5_000,
        maxAttempts: 3,
      }),
    ).rejects.toMatchObject({ code: "CONFLICT", retryable: false });
    expect(s.calls()).toBe(3);
    expect(events).toEqual([]);
  });

  it("stops waiting when aborted and ends the outage", async () => {
    const outages = new Outages();
    const abort = new AbortController();
    const done = retryUntilDeadline(
      () => Promise.reject(fail("CONNECTION", true)),
      { ...base(outages), deadlineMs: 60_000, signal: abort.signal },
    );
    setTimeout(() => abort.abort(), 20);
    await expect(done).rejects.toMatchObject({ code: "CONNECTION" });
    expect(outages.current()).toEqual([]);
  });
});

describe("retryUntilDeadline with a failure already seen", () => {
  it("counts it as the first attempt: listed as an outage before the first call", async () => {
    const outages = new Outages();
    let listed: readonly string[] = [];
    let calls = 0;
    await retryUntilDeadline(
      () => {
        calls += 1;
        listed = outages.current().map((o) => o.what);
        return Promise.resolve();
      },
      {
        ...base(outages),
        deadlineMs: 5_000,
        alreadyFailed: fail("CONNECTION", true),
      },
    );
    expect(calls).toBe(1);
    expect(listed).toEqual(["the test dependency"]);
  });
});

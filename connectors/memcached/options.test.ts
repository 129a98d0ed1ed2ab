import { of } from "rxjs";
import { describe, expect, it } from "vitest";
import type { DedupeStore } from "../../operators/dedupe.js";
import { SluiceError } from "../../operators/sluice-error.js";
import { resolveMemcachedDedupeStoreOptions } from "./options.js";
import type { MemcachedDedupeStoreOptions } from "./options.js";

const caught = (o: MemcachedDedupeStoreOptions): SluiceError => {
  try {
    resolveMemcachedDedupeStoreOptions(o);
  } catch (e) {
    if (e instanceof SluiceError) return e;
    throw e;
  }
  throw new Error("did not throw");
};

describe("resolveMemcachedDedupeStoreOptions", () => {
  it("applies the defaults", () => {
    expect(
      resolveMemcachedDedupeStoreOptions({ servers: ["127.0.0.1:11211"] }),
    ).toEqual({
      servers: ["127.0.0.1:11211"],
      replicate: false,
      keyPrefix: "sluice:dedupe:",
      timeoutMs: 500,
      connectTimeoutMs: 1000,
      username: undefined,
      password: undefined,
      authoritative: undefined,
      name: "memcached-dedupe",
      outageDeadlineMs: 60_000,
    });
  });

  it("names a server without a port by its index", () => {
    expect(caught({ servers: ["127.0.0.1"] }).message).toBe(
      "memcached.servers.0: must be host:port",
    );
  });

  it("needs at least one server", () => {
    expect(caught({ servers: [] }).context.field).toBe("servers");
  });

  it("rejects a key prefix with spaces", () => {
    expect(caught({ servers: ["h:1"], keyPrefix: "a b" }).context.field).toBe(
      "keyPrefix",
    );
  });

  it("never prints the password", () => {
    const e = caught({ servers: ["h:1"], password: "hunter2-secret" });
    expect(e.message).toBe(
      "memcached.password: username and password go together",
    );
    expect(e.message).not.toContain("hunter2");
  });

  it("checks that the authoritative store is a DedupeStore", () => {
    const e = caught({ servers: ["h:1"], authoritative: {} as DedupeStore });
    expect(e.message).toMatch(/^memcached\.authoritative: /);
    const ok: DedupeStore = {
      claim: () => of("claimed" as const),
      confirm: () => of(undefined),
      release: () => of(undefined),
    };
    expect(
      resolveMemcachedDedupeStoreOptions({
        servers: ["h:1"],
        authoritative: ok,
      }).authoritative,
    ).toBe(ok);
  });
});

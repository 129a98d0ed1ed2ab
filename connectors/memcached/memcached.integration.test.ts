import { randomBytes } from "node:crypto";
import memjs from "memjs";
import { firstValueFrom } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DedupeStore } from "../../operators/dedupe.js";
import { memoryDedupeStore } from "../../operators/memory-dedupe-store.js";
import { SluiceError } from "../../operators/sluice-error.js";
import { requireServices } from "../../stack/index.js";
import { waitFor } from "../testing/helpers.js";
import { memcachedDedupeStore } from "./dedupe-store.js";
import type { MemcachedDedupeStore } from "./dedupe-store.js";
import type { MemcachedDedupeStoreOptions } from "./options.js";

// Keys of this run live under a unique prefix; afterAll deletes them and closes the clients.
const keyPrefix = `sluice-it-${randomBytes(4).toString("hex")}:`;
const DEAD = "127.0.0.1:1";
let servers: readonly string[] = [];
const stores: MemcachedDedupeStore[] = [];
const ids = new Set<string>();
let n = 0;

beforeAll(async () => {
  servers = (await requireServices(["memcached"])).memcachedServers;
});

afterAll(async () => {
  for (const s of stores) await s.close();
  if (servers.length === 0) return;
  const client = memjs.Client.create(servers.join(","), {
    logger: { log: () => undefined },
  });
  try {
    await Promise.all(
      [...ids].map((id) => client.delete(keyPrefix + id).catch(() => false)),
    );
  } finally {
    client.close();
  }
});

const store = (
  o: Partial<MemcachedDedupeStoreOptions> = {},
): MemcachedDedupeStore => {
  const s = memcachedDedupeStore({ servers, keyPrefix, ...o });
  stores.push(s);
  return s;
};
const newId = (): string => {
  const id = `id-${++n}`;
  ids.add(id);
  return id;
};
const claim = (s: DedupeStore, id: string, ttlMs = 30_000) =>
  firstValueFrom(s.claim(id, ttlMs));
const confirm = (s: DedupeStore, id: string, ttlMs = 30_000) =>
  firstValueFrom(s.confirm(id, ttlMs), { defaultValue: undefined });
const release = (s: DedupeStore, id: string) =>
  firstValueFrom(s.release(id), { defaultValue: undefined });

async function eventually(
  s: DedupeStore,
  id: string,
  expected: string,
  ttlMs = 30_000,
): Promise<void> {
  let last: string;
  const deadline = Date.now() + 10_000;
  while ((last = await claim(s, id, ttlMs)) !== expected) {
    if (Date.now() > deadline)
      throw new Error(`claim of ${id} stayed ${last}, wanted ${expected}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("memcachedDedupeStore", () => {
  it("answers a second claim of a claimed id with exists", async () => {
    const s = store();
    const id = newId();
    expect(await claim(s, id)).toBe("claimed");
    expect(await claim(s, id)).toBe("exists");
    expect(await claim(store(), id)).toBe("exists");
    expect(s.metrics.writes).toBeGreaterThanOrEqual(3);
  });

  it("answers confirmed after a confirm", async () => {
    const s = store();
    const id = newId();
    await claim(s, id);
    await confirm(s, id);
    expect(await claim(s, id)).toBe("confirmed");
    expect(await claim(store(), id)).toBe("confirmed");
  });

  it("makes a released id claimable again", async () => {
    const s = store();
    const id = newId();
    await claim(s, id);
    await release(s, id);
    expect(await claim(s, id)).toBe("claimed");
  });

  it("never releases a confirmed id", async () => {
    const s = store();
    const id = newId();
    await claim(s, id);
    await confirm(s, id);
    await release(s, id);
    expect(await claim(s, id)).toBe("confirmed");
  });

  it("frees a claim when its TTL runs out", async () => {
    const s = store();
    const id = newId();
    expect(await claim(s, id, 1_000)).toBe("claimed");
    await eventually(s, id, "claimed", 1_000);
  });

  it("does not release another worker's claim taken after ours expired (CAS)", async () => {
    const a = store();
    const b = store();
    const id = newId();
    expect(await claim(a, id, 1_000)).toBe("claimed");
    await eventually(b, id, "claimed"); // a's claim expired, b holds the id now
    await release(a, id);
    expect(await claim(store(), id)).toBe("exists");
  });

  it("hashes ids that are too long or have spaces for a memcached key", async () => {
    const s = store();
    const id = `${"x".repeat(300)} with spaces`;
    expect(await claim(s, id)).toBe("claimed");
    expect(await claim(s, id)).toBe("exists");
    await release(s, id);
    expect(await claim(s, id)).toBe("claimed");
    await release(s, id);
  });

  it("waits for memcached while it is down and there is no authoritative store, then fails naming what it waited on", async () => {
    const s = store({ servers: [DEAD], timeoutMs: 200, outageDeadlineMs: 600 });
    const error = await claim(s, newId()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe("CONNECTION");
    expect((error as SluiceError).retryable).toBe(false);
    expect((error as SluiceError).message).toMatch(
      /^memcached-dedupe claim on 127\.0\.0\.1:1: gave up after \d+ attempts/,
    );
    expect(s.metrics.errors).toBeGreaterThan(1);
    expect(s.metrics.retries).toBe(s.metrics.errors - 1);
  });

  it("rejects calls after close with CLOSED", async () => {
    const s = store();
    await s.close();
    await s.close();
    const error = await claim(s, newId()).catch((e: unknown) => e);
    expect((error as SluiceError).code).toBe("CLOSED");
  });
});

describe("memcachedDedupeStore with an authoritative store", () => {
  it("lets the authoritative store decide on a cache miss and mirrors its confirm", async () => {
    const auth = memoryDedupeStore();
    const id = newId();
    await firstValueFrom(auth.claim(id, 30_000));
    await firstValueFrom(auth.confirm(id, 30_000), { defaultValue: undefined });
    const s = store({ authoritative: auth });
    expect(await claim(s, id)).toBe("confirmed");
    expect(s.metrics.authoritative).toBe(1);
    expect(await claim(store(), id)).toBe("confirmed"); // the cache alone now knows
  });

  it("takes its cache claim back when the authoritative store says exists", async () => {
    const auth = memoryDedupeStore();
    const id = newId();
    await firstValueFrom(auth.claim(id, 30_000));
    const s = store({ authoritative: auth });
    expect(await claim(s, id)).toBe("exists");
    await firstValueFrom(auth.release(id), { defaultValue: undefined });
    expect(await claim(s, id)).toBe("claimed");
  });

  it("claims, confirms and releases in both tiers", async () => {
    const auth = memoryDedupeStore();
    const s = store({ authoritative: auth });
    const id = newId();
    expect(await claim(s, id)).toBe("claimed");
    expect(auth.stateOf(id)).toBe("claimed");
    await release(s, id);
    expect(auth.stateOf(id)).toBeUndefined();
    expect(await claim(s, id)).toBe("claimed");
    await confirm(s, id);
    expect(auth.stateOf(id)).toBe("confirmed");
    expect(await claim(s, id)).toBe("confirmed");
  });

  it("falls back to the authoritative store when memcached is down", async () => {
    const auth = memoryDedupeStore();
    const s = store({ servers: [DEAD], timeoutMs: 200, authoritative: auth });
    const id = newId();
    expect(await claim(s, id)).toBe("claimed");
    expect(await claim(s, id)).toBe("exists");
    await confirm(s, id);
    expect(await claim(s, id)).toBe("confirmed");
    expect(s.metrics.errors).toBeGreaterThan(0);
  });
});

describe("memcachedDedupeStore with replicas", () => {
  it("decides on the next replica when the first is down, and keeps working", async () => {
    const s = store({
      servers: [DEAD, ...servers],
      replicate: true,
      timeoutMs: 200,
    });
    const id = newId();
    expect(await claim(s, id)).toBe("claimed");
    expect(s.metrics.retries).toBeGreaterThan(0);
    expect(await claim(store(), id)).toBe("exists"); // the live replica has it
    await confirm(s, id);
    expect(await claim(store(), id)).toBe("confirmed");
    await waitFor(
      () => s.metrics.errors >= 2,
      1_000,
      "failed replica calls counted",
    );
  });
});

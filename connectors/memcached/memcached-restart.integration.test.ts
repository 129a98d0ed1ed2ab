import { firstValueFrom } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  privateMemcached,
  type PrivateMemcached,
} from "../../stack/private-services.js";
import { outages } from "../internal/outages.js";
import type { OutageEvent } from "../internal/outages.js";
import { waitFor } from "../testing/helpers.js";
import { memcachedDedupeStore } from "./dedupe-store.js";

// A private memcached (never the shared one) is restarted under a live store.
let mc: PrivateMemcached;
beforeAll(async () => {
  mc = await privateMemcached();
});
afterAll(async () => {
  await mc.dispose();
});

describe("memcachedDedupeStore across a memcached restart", () => {
  it("claims made while memcached is down wait for it, are listed as an outage, and succeed once it is back", async () => {
    const store = memcachedDedupeStore({
      servers: [mc.server],
      timeoutMs: 200,
      outageDeadlineMs: 30_000,
    });
    const events: OutageEvent[] = [];
    const stop = outages.subscribe((e) => events.push(e));
    try {
      expect(await firstValueFrom(store.claim("before", 60_000))).toBe(
        "claimed",
      );
      await mc.stop();
      const during = firstValueFrom(store.claim("during", 60_000));
      await waitFor(
        () => outages.current().some((o) => o.what.includes(mc.server)),
        10_000,
        "the claim to be listed as waiting on memcached",
      );
      await mc.start();
      expect(await during).toBe("claimed");
      expect(outages.current()).toEqual([]);
      expect(events.map((e) => e.type)).toEqual(["down", "up"]);
      expect(events[0]!.outage.what).toBe(
        `memcached-dedupe claim on ${mc.server}`,
      );
      // The restart emptied memcached: the claim went to the new server, which holds it.
      expect(await firstValueFrom(store.claim("during", 60_000))).toBe(
        "exists",
      );
      expect(store.metrics.retries).toBeGreaterThan(0);
    } finally {
      stop();
      await store.close();
    }
  });
});

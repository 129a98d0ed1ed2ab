import memjs from "memjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireServices } from "../index.js";
import { uniqueName, waitFor } from "./wait.js";

let client: memjs.Client | undefined;
const keys: string[] = [];

beforeAll(async () => {
  const env = await requireServices(["memcached"]);
  client = memjs.Client.create(env.memcachedServers.join(","), {
    retries: 1,
    timeout: 2,
    logger: { log: () => undefined },
  });
});

afterAll(async () => {
  if (client === undefined) return;
  try {
    for (const k of keys) await client.delete(k);
  } finally {
    client.close();
  }
});

function mc(): memjs.Client {
  if (client === undefined) throw new Error("memcached client not created");
  return client;
}

describe("memcached smoke", () => {
  it("returns a value that was set and forgets it once its TTL passes", async () => {
    const key = uniqueName("smoke_ttl");
    keys.push(key);
    await mc().set(key, "hello memcached", { expires: 1 });
    const { value } = await mc().get(key);
    expect(value?.toString("utf8")).toBe("hello memcached");

    // memcached expires on whole-second boundaries: within ~2 s of a 1 s TTL.
    const gone = await waitFor(
      "the key to expire",
      async () => ((await mc().get(key)).value === null ? true : undefined),
      10_000,
      200,
    );
    expect(gone).toBe(true);
  });
});

import { afterAll, describe, expect, it } from "vitest";
import { probeKafka, probeMemcached, probePostgres } from "./probes.js";
import {
  privateKafka,
  privateMemcached,
  privatePostgres,
  type PrivateService,
} from "./private-services.js";

const started: PrivateService[] = [];
afterAll(async () => {
  for (const s of started) await s.dispose();
});

describe("private services", () => {
  it("a private PostgreSQL answers, is down while stopped and answers again after a restart", async () => {
    const pg = await privatePostgres();
    started.push(pg);
    expect(await probePostgres(pg.url, 5000)).toMatch(/^PostgreSQL/);
    await pg.stop();
    await expect(probePostgres(pg.url, 2000)).rejects.toThrow();
    await pg.start();
    expect(await probePostgres(pg.url, 5000)).toMatch(/^PostgreSQL/);
  });

  it("a private memcached answers again after a kill and a start", async () => {
    const mc = await privateMemcached();
    started.push(mc);
    expect(mc.server).not.toBe("127.0.0.1:11211");
    await mc.kill();
    await expect(probeMemcached([mc.server], 1000)).rejects.toThrow();
    await mc.start();
    await expect(probeMemcached([mc.server], 2000)).resolves.toBeTypeOf(
      "string",
    );
  });

  it("a private Kafka broker answers again after a restart, on its own port", async () => {
    const kafka = await privateKafka();
    started.push(kafka);
    expect(kafka.brokers).not.toContain("127.0.0.1:9092");
    await kafka.restart();
    expect(await probeKafka(kafka.brokers, 5000)).toMatch(/1 broker/);
  });
});

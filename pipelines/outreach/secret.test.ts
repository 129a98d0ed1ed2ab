import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { MemoryLog } from "../../connectors/memory/index.js";
import { createLogger } from "../../runtime/log.js";
import { memoryActionLog } from "./action-log.js";
import { outreachConfig } from "./jobs/config.js";
import { DEMO_SEGMENTS, startOutreachSystem } from "./system.js";
import { embeddedTransport } from "./transport.js";
import { DEFAULT_TOPICS, firingAt } from "./types.js";

const KEY = "sk-outreach-7f3a9c1e5b2d";
const dir = mkdtempSync(join(tmpdir(), "outreach-secret-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString("utf8"));
      cb();
    },
  });
  return { lines, stream };
}

const parse = (apiKey: unknown) =>
  z.object(outreachConfig).parse({
    apiKey,
    segmentServiceUrl: "http://127.0.0.1:1",
    jobServiceUrl: "http://127.0.0.1:2",
    outreachServiceUrl: "http://127.0.0.1:3",
  });

describe("the outreach API key", () => {
  it("is read from a mounted secret file and never appears in the logs, even at trace level", async () => {
    const file = join(dir, "api-key");
    writeFileSync(file, `${KEY}\n`);
    const config = parse({ file });
    expect(config.apiKey.reveal()).toBe(KEY);
    expect(JSON.stringify(config)).not.toContain(KEY);
    const { lines, stream } = capture();
    const logger = createLogger({
      job: "outreach",
      level: "trace",
      destination: stream,
    });
    logger.info("effective config", { config, apiKey: config.apiKey });
    const sys = await startOutreachSystem({
      transport: embeddedTransport(new MemoryLog(), DEFAULT_TOPICS),
      actionLog: memoryActionLog(),
      segments: DEMO_SEGMENTS(200, 2),
      pageSize: 50,
      apiKey: KEY,
      clientApiKey: config.apiKey,
      missingEmailEvery: 9,
      logger,
    });
    try {
      const firing = firingAt("outreach-planner", Date.UTC(2026, 0, 5, 12));
      await sys.plan(firing);
      const counts = await sys.settled(firing.id, 200);
      expect(counts.DELIVERED).toBeGreaterThan(0);
    } finally {
      await sys.close();
    }
    const out = lines.join("");
    expect(out).toContain("firing planned");
    expect(out).toContain("dead-lettered");
    expect(out).not.toContain(KEY);
  });

  it("from the environment: a rejected key fails the firing without printing the key", async () => {
    process.env["OUTREACH_TEST_API_KEY"] = "sk-wrong-key-41d9e8";
    const config = z.object(outreachConfig).parse({
      apiKey: { env: "OUTREACH_TEST_API_KEY" },
      segmentServiceUrl: "http://127.0.0.1:1",
      jobServiceUrl: "http://127.0.0.1:2",
      outreachServiceUrl: "http://127.0.0.1:3",
    });
    const { lines, stream } = capture();
    const logger = createLogger({
      job: "outreach",
      level: "trace",
      destination: stream,
    });
    const sys = await startOutreachSystem({
      transport: embeddedTransport(new MemoryLog(), DEFAULT_TOPICS),
      actionLog: memoryActionLog(),
      segments: DEMO_SEGMENTS(10, 1),
      apiKey: KEY,
      clientApiKey: config.apiKey,
      logger,
    });
    try {
      const error = await sys
        .plan(firingAt("outreach-planner", Date.UTC(2026, 0, 5, 13)))
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      expect(error?.message).toMatch(
        /segment service GET \/v1\/schedules:active\/segments answered 401/,
      );
      logger.error("firing failed", { err: error });
      expect(error?.message).not.toContain(config.apiKey.reveal());
    } finally {
      await sys.close();
      delete process.env["OUTREACH_TEST_API_KEY"];
    }
    const out = lines.join("");
    expect(out).toContain("answered 401");
    expect(out).not.toContain(config.apiKey.reveal());
    expect(out).not.toContain(KEY);
  });
});

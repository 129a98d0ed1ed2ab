import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, Secret, loadConfig, redact, secret } from "./config.js";

const dir = mkdtempSync(join(tmpdir(), "sluice-config-"));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("applies defaults when there is no file and no environment", () => {
    const { runtime, job } = loadConfig({ env: {} });
    expect(runtime.logLevel).toBe("info");
    expect(runtime.http).toEqual({ port: 9464, host: "0.0.0.0" });
    expect(runtime.checkpoint).toEqual({
      intervalMs: 10_000,
      barrierTimeoutMs: 5_000,
      store: "memory",
    });
    expect(runtime.kafka).toBeUndefined();
    expect(job).toBeUndefined();
  });

  it("reads YAML and validates the job section with the job's schema", () => {
    const path = file(
      "config.yaml",
      "logLevel: debug\nkafka:\n  brokers: [a:9092, b:9092]\njob:\n  topic: reviews\n  batchSize: 50\n",
    );
    const { runtime, job } = loadConfig({
      file: path,
      env: {},
      jobSchema: z.object({ topic: z.string(), batchSize: z.number() }),
    });
    expect(runtime.logLevel).toBe("debug");
    expect(runtime.kafka?.brokers).toEqual(["a:9092", "b:9092"]);
    expect(job).toEqual({ topic: "reviews", batchSize: 50 });
  });

  it("reads JSON files too", () => {
    const path = file("config.json", '{"http":{"port":8080}}');
    expect(loadConfig({ file: path, env: {} }).runtime.http.port).toBe(8080);
  });

  it("lets the environment win over the file, the SLUICE_ name over the stack's", () => {
    const path = file("env.yaml", "kafka:\n  brokers: [file:9092]\n");
    const { runtime, job } = loadConfig({
      file: path,
      env: {
        KAFKA_BROKERS: "stack:9092",
        SLUICE_KAFKA_BROKERS: "x:1, y:2",
        SLUICE_HTTP_PORT: "9000",
        DATABASE_URL: "postgres://u:p@h/db",
        MEMCACHED_SERVERS: "m:11211",
        CASSANDRA_CONTACT_POINTS: "c1,c2",
        SLUICE_CASSANDRA_REPLICATION_FACTOR: "3",
        SLUICE_JOB__BATCH_SIZE: "7",
        SLUICE_JOB__SINK__TABLE_NAME: "t",
      },
      jobSchema: z.object({
        batchSize: z.number(),
        sink: z.object({ tableName: z.string() }),
      }),
    });
    expect(runtime.kafka?.brokers).toEqual(["x:1", "y:2"]);
    expect(runtime.http.port).toBe(9000);
    expect(runtime.postgres?.url.reveal()).toBe("postgres://u:p@h/db");
    expect(runtime.memcached?.servers).toEqual(["m:11211"]);
    expect(runtime.cassandra?.contactPoints).toEqual(["c1", "c2"]);
    expect(runtime.cassandra?.replicationFactor).toBe(3);
    expect(job).toEqual({ batchSize: 7, sink: { tableName: "t" } });
  });

  it("keeps a digit string that no JSON number holds exactly as the string it was", () => {
    const { job } = loadConfig({
      env: {
        SLUICE_JOB__SMALL: "100000000000000",
        SLUICE_JOB__HUGE: "12345678901234567890",
      },
      jobSchema: z.object({ small: z.number(), huge: z.string() }),
    });
    expect(job).toEqual({
      small: 100000000000000,
      huge: "12345678901234567890",
    });
  });

  it("names the field and the file in errors", () => {
    const path = file("config.yaml", "kafka:\n  brokers: []\n");
    expect(problems(() => loadConfig({ file: path, env: {} }))).toEqual([
      "config.yaml: kafka.brokers must be a non-empty list",
    ]);
  });

  it("names the environment variable when the bad value came from it", () => {
    const found = problems(() =>
      loadConfig({ env: { SLUICE_HTTP_PORT: "eighty" } }),
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^env SLUICE_HTTP_PORT: http\.port: /);
  });

  it("reports every problem at once, job fields under job.", () => {
    const path = file("many.yaml", "logLevel: loud\nunknownKey: 1\njob: {}\n");
    const found = problems(() =>
      loadConfig({
        file: path,
        env: {},
        jobSchema: z.object({ topic: z.string() }),
      }),
    );
    expect(found.some((p) => p.startsWith("many.yaml: logLevel"))).toBe(true);
    expect(found.some((p) => p.includes("unknownKey"))).toBe(true);
    expect(found.some((p) => p.startsWith("many.yaml: job.topic"))).toBe(true);
  });

  it("requires the store's connection when checkpoints go to PostgreSQL", () => {
    expect(
      problems(() =>
        loadConfig({ env: { SLUICE_CHECKPOINT_STORE: "postgres" } }),
      ),
    ).toEqual([
      "defaults: postgres.url must be set when checkpoint.store is postgres (or set DATABASE_URL)",
    ]);
  });

  it("says which file could not be read", () => {
    expect(
      problems(() =>
        loadConfig({ file: join(dir, "missing.yaml"), env: {} }),
      )[0],
    ).toMatch(/missing\.yaml: cannot read the file \(ENOENT\)/);
  });
});

describe("secrets", () => {
  it("reads a secret from a mounted file, from env, or inline, and never prints it", () => {
    const keyFile = file("api-key", "s3cr3t-from-file\n");
    const path = file(
      "secrets.yaml",
      `secrets:\n  fromFile: { file: ${keyFile} }\n  fromEnv: { env: MY_KEY }\njob:\n  apiKey: inline-s3cr3t\n`,
    );
    const { runtime, job } = loadConfig({
      file: path,
      env: { MY_KEY: "s3cr3t-from-env", SLUICE_SECRETS__OTHER_KEY: "s3cr3t-3" },
      jobSchema: z.object({ apiKey: secret() }),
    });
    expect(runtime.secrets["fromFile"]?.reveal()).toBe("s3cr3t-from-file");
    expect(runtime.secrets["fromEnv"]?.reveal()).toBe("s3cr3t-from-env");
    expect(runtime.secrets["otherKey"]?.reveal()).toBe("s3cr3t-3");
    expect(job.apiKey.reveal()).toBe("inline-s3cr3t");
    const printed = [
      JSON.stringify(runtime),
      JSON.stringify(job),
      inspect(runtime, { depth: 10 }),
      String(job.apiKey),
      JSON.stringify(redact({ runtime, job })),
    ].join("\n");
    expect(printed).not.toMatch(/s3cr3t/);
  });

  it("names the missing file or variable without the value", () => {
    const found = problems(() =>
      loadConfig({
        env: { SLUICE_SECRETS__A: "" },
        file: file(
          "s.yaml",
          "secrets:\n  b: { file: /nope/key }\n  c: { env: UNSET_VAR }\n",
        ),
      }),
    );
    expect(found).toContain(
      "s.yaml: secrets.b must name a readable file (/nope/key: ENOENT)",
    );
    expect(found).toContain(
      "s.yaml: secrets.c must name a set environment variable (UNSET_VAR is not set)",
    );
  });
});

describe("redact", () => {
  it("masks URL passwords, secret-looking keys and Secrets, and keeps the rest", () => {
    expect(
      redact({
        postgres: {
          url: new Secret("postgres://sluice:pw@db:5432/x", "inline"),
        },
        plain: "postgres://db:5432/x",
        nested: [{ password: "pw", apiKey: "k", host: "h" }],
        token: new Secret("t", "inline"),
        port: 1,
      }),
    ).toEqual({
      postgres: { url: "postgres://sluice:***@db:5432/x" },
      plain: "postgres://db:5432/x",
      nested: [{ password: "***", apiKey: "***", host: "h" }],
      token: "***",
      port: 1,
    });
  });
});

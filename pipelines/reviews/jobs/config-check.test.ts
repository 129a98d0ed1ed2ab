import { describe, expect, it } from "vitest";
import { z } from "zod";
import enrichment from "./enrichment-job.js";
import { checkJobConfig } from "../../../runtime/check-config.js";
import { defineJob } from "../../../runtime/job.js";

const base = {
  KAFKA_BROKERS: "kafka:9092",
  DATABASE_URL: "postgres://sluice:hunter2@db:5432/sluice",
};

describe("checkJobConfig", () => {
  it("keeps a nested default when the environment sets a sibling field (host without port)", () => {
    const check = checkJobConfig(enrichment, {
      env: {
        ...base,
        SLUICE_JOB__REVIEW_SERVICE__HOST: "reviews-service",
        SLUICE_JOB__MOVIE_SERVICE__HOST: "reviews-catalog",
      },
    });
    expect(check.ok).toBe(true);
    const job = (check as { config: { job: Record<string, unknown> } }).config
      .job;
    expect(job["reviewService"]).toEqual({
      host: "reviews-service",
      port: 7101,
    });
    expect(job["movieService"]).toEqual({
      host: "reviews-catalog",
      port: 7102,
    });
    expect(job["userService"]).toEqual({ host: "127.0.0.1", port: 7103 });
  });

  it("lists every problem with the field and the variable it came from", () => {
    const check = checkJobConfig(enrichment, {
      env: {
        SLUICE_CHECKPOINT_STORE: "postgres",
        SLUICE_JOB__USER_SERVICE__PORT: "70000",
      },
    });
    expect(check.ok).toBe(false);
    const problems = (check as { problems: readonly string[] }).problems;
    expect(problems).toContain(
      "defaults: postgres.url must be set when checkpoint.store is postgres (or set DATABASE_URL)",
    );
    expect(problems.join("\n")).toMatch(
      /^env SLUICE_JOB__USER_SERVICE__PORT: job\.userService\.port/m,
    );
  });

  it("never prints a secret in the effective config", () => {
    const check = checkJobConfig(enrichment, { env: base });
    expect(JSON.stringify(check)).not.toContain("hunter2");
  });

  it("rethrows what is not a config problem", () => {
    const job = defineJob({
      name: "broken",
      config: z.object({}).transform(() => {
        throw new TypeError("schema bug");
      }),
      run: () => Promise.resolve(),
    });
    expect(() => checkJobConfig(job, { env: {} })).toThrow("schema bug");
  });
});

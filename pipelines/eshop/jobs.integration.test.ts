import { EventEmitter } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runJob, type JobRun } from "../../runtime/lifecycle.js";
import type { AnyJob } from "../../runtime/job.js";
import { requireServices, type Endpoints } from "../../stack/index.js";
import { uniqueName } from "../../stack/smoke/wait.js";
import { startApi, type EshopApi } from "./api.js";
import { entry } from "./entry.js";
import { openEshopStack, type EshopStack } from "./testing/stack-fixture.js";
import { waitFor, waitForStatus } from "./testing/saga.js";

let env: Endpoints;
let stack: EshopStack;
let api: EshopApi | undefined;
const runs: JobRun[] = [];
const signals = new EventEmitter();
const runId = uniqueName("eshop_jobs").replace(/[^a-z0-9_]/g, "");

const logLines: string[] = [];
const quiet = { write: (l: string) => void logLines.push(l) };

async function start(
  name: string,
  extra: NodeJS.ProcessEnv = {},
): Promise<JobRun> {
  const load = entry.jobs?.[name];
  if (load === undefined) throw new Error(`no job ${name}`);
  const job = ((await load()) as { default: AnyJob }).default;
  const run = await runJob(job, {
    env: {
      KAFKA_BROKERS: env.kafkaBrokers.join(","),
      DATABASE_URL: env.databaseUrl,
      SLUICE_JOB__TOPIC_PREFIX: `${runId}.`,
      SLUICE_JOB__GROUP_PREFIX: `${runId}.`,
      SLUICE_JOB__SCHEMA: runId,
      SLUICE_JOB__PARTITIONS: "3",
      ...extra,
    },
    port: 0,
    signals,
    exit: () => undefined,
    checkpointStore: stack.checkpointStore,
    logDestination: quiet,
  });
  runs.push(run);
  const early = await Promise.race([
    run.exited,
    new Promise<undefined>((r) => setTimeout(() => r(undefined), 200)),
  ]);
  if (early !== undefined && early !== 0)
    throw new Error(`${name} exited with ${early}:\n${logLines.join("")}`);
  return run;
}

beforeAll(async () => {
  env = await requireServices(["kafka", "postgres"]);
  stack = await openEshopStack(env, runId, { partitions: 3 });
});

afterAll(async () => {
  await api?.close();
  for (const r of runs) await r.shutdown("test over");
  await stack.close();
});

describe("the e-shop jobs on Kafka and PostgreSQL", () => {
  it("run the saga with the grace period as a separate task that records its run", async () => {
    const services = [
      await start("eshop-ordering", { SLUICE_JOB__GRACE_MODE: "task" }),
      await start("eshop-catalog"),
      await start("eshop-payment", { SLUICE_JOB__FAILURE_RATE: "0" }),
      await start("eshop-basket"),
    ];
    // Each service's dead letters are on /metrics (and so in sluice.job_stats) once ready.
    for (const [i, name] of [
      "ordering",
      "catalog",
      "payment",
      "basket",
    ].entries()) {
      const series = `sluice_bad_records_total{connector="dead-letter",name="eshop-${name}",fate="dead_lettered",job="eshop-${name}"} 0`;
      await waitFor(`eshop-${name}'s dead letters on /metrics`, async () =>
        (
          await (
            await fetch(`http://127.0.0.1:${services[i]!.port}/metrics`)
          ).text()
        ).includes(series)
          ? true
          : undefined,
      );
    }
    api = await startApi({ bus: stack.bus, stores: stack.stores });
    const id = await api.placeOrder({
      buyer: "olga",
      items: [{ productId: 2, quantity: 3 }],
    });
    await waitForStatus(stack.stores.views, id, "Submitted", 30_000);
    await new Promise((r) => setTimeout(r, 300));
    const task = await start("eshop-grace-period-task", {
      SLUICE_JOB__GRACE_MS: "200",
    });
    expect(await task.exited).toBe(0);
    await waitForStatus(stack.stores.views, id, "Paid", 30_000).catch(
      async (e: unknown) => {
        console.log(
          logLines
            .filter((l) => !l.includes('"INFO"') || l.includes("grace"))
            .join("\n"),
          await stack.stores.views.get(id),
        );
        throw e;
      },
    );
    const taskRuns = await stack.stores.taskRuns.list();
    expect(taskRuns).toHaveLength(1);
    expect(taskRuns[0]).toMatchObject({
      confirmed: 1,
      exitMessage: "COMPLETED",
    });
    expect(taskRuns[0]?.endedAt).not.toBeNull();
    // Basket and Catalog act on the events after Paid is written: wait for them.
    await waitFor("the basket emptied", async () =>
      (await stack.stores.baskets.get("olga")) === undefined ? true : undefined,
    );
    await waitFor("3 units of product 2 out of stock", async () =>
      (await stack.stores.stock.products()).find((p) => p.productId === 2)
        ?.stock === 97
        ? true
        : undefined,
    );
  });
});

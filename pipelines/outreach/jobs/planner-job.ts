// `sluice run outreach-planner`: the hourly firing (seeds/000): segments → job ids → Kafka.
import { lastValueFrom } from "rxjs";
import { z } from "zod";
import { kafkaAdmin, kafkaSink } from "../../../connectors/kafka/index.js";
import {
  migrateScheduleTables,
  postgresFiringStore,
  scheduleSource,
} from "../../../connectors/schedule/index.js";
import { ackAfter } from "../../../operators/ack-after.js";
import { defineJob } from "../../../runtime/job.js";
import { JobServiceClient, SegmentServiceClient } from "../clients.js";
import { runPlannerFiring } from "../planner.js";
import {
  endpointOf,
  kafkaBrokers,
  outreachConfig,
  postgresFor,
} from "./config.js";

/**
 * Every hour (cron in an IANA zone, deterministic firing ids, catch-up of the latest missed
 * hour after downtime, overlapping firings skipped): if the feature flag is on, reads the
 * segments of active schedules, streams each segment's job ids page by page onto the jobs
 * topic and sets the segment's processedAt. `runOnce: true` runs the current hour's firing
 * and exits, as a K3s CronJob. Firings are recorded in PostgreSQL, so a rerun of a finished
 * hour does nothing and a failed one runs again.
 *
 * @example
 * ```sh
 * KAFKA_BROKERS=127.0.0.1:9092 DATABASE_URL=postgres://… SLUICE_JOB__RUN_ONCE=true \
 *   sluice run outreach-planner --config outreach.yaml
 * ```
 */
export default defineJob({
  name: "outreach-planner",
  description:
    "Hourly: feature flag → active segments → job ids (paged) → Kafka; processedAt.",
  config: z
    .object({
      ...outreachConfig,
      cron: z.string().min(1).default("0 * * * *"),
      timeZone: z.string().min(1).default("UTC"),
      runOnce: z.boolean().default(false),
      /** Run-once: how late a start may be and still count for the hour. */
      toleranceMs: z
        .number()
        .int()
        .positive()
        .default(15 * 60_000),
      pageSize: z.number().int().min(1).max(10_000).default(1_000),
      segmentConcurrency: z.number().int().positive().default(4),
    })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    const brokers = kafkaBrokers(ctx.runtime);
    const admin = kafkaAdmin({ brokers });
    try {
      await admin.createTopics([
        { topic: c.topics.jobs, partitions: c.partitions },
      ]);
    } finally {
      await admin.close();
    }
    const db = postgresFor(ctx, ctx.runtime);
    await migrateScheduleTables(db, { schema: c.schema });
    // Registered, so shutdown stops intake, waits for the firing in flight and closes it.
    const schedule = ctx.addSource(
      scheduleSource({
        job: ctx.name,
        cron: c.cron,
        timeZone: c.timeZone,
        store: postgresFiringStore(db, { schema: c.schema }),
        mode: c.runOnce ? "run-once" : "continuous",
        toleranceMs: c.toleranceMs,
        overlap: "skip",
        catchUp: { policy: "latest" },
      }),
    );
    const sink = ctx.addSink(
      kafkaSink<Buffer>({ brokers, topic: c.topics.jobs, encode: (b) => b }),
    );
    const segments = new SegmentServiceClient(
      endpointOf(c, c.segmentServiceUrl),
    );
    const jobs = new JobServiceClient(endpointOf(c, c.jobServiceUrl));
    ctx.logger.info("planner scheduled", {
      cron: c.cron,
      timeZone: c.timeZone,
      runOnce: c.runOnce,
      enabled: c.enabled,
    });
    ctx.ready();
    await lastValueFrom(
      schedule.records().pipe(
        // A firing is recorded done when its plan is published, failed (it runs again on
        // the next start) when it throws; a run-once job then ends with the error.
        ackAfter(
          (r) =>
            runPlannerFiring(r.value, {
              segments,
              jobs,
              sink,
              topic: c.topics.jobs,
              logger: ctx.logger,
              enabled: c.enabled,
              pageSize: c.pageSize,
              segmentConcurrency: c.segmentConcurrency,
            }),
          {
            onError: (e, r) => {
              ctx.logger.error(
                "firing failed; it runs again on the next start",
                { firingId: r.value.id, err: e },
              );
              if (c.runOnce) throw e;
            },
          },
        ),
      ),
      { defaultValue: undefined },
    );
  },
});

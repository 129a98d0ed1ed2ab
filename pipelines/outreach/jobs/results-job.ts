// `sluice run outreach-results`: the outreach service's results → the action log.
import { z } from "zod";
import {
  kafkaAdmin,
  kafkaSink,
  kafkaSource,
} from "../../../connectors/kafka/index.js";
import { BadRecordCounters } from "../../../operators/dead-letter.js";
import { defineJob } from "../../../runtime/job.js";
import { migrateActionLog, postgresActionLog } from "../postgres-action-log.js";
import { newResultsStats, runResults } from "../results.js";
import { DEFAULT_TOPICS } from "../types.js";
import { kafkaBrokers, postgresFor } from "./config.js";

/**
 * Reads `DeliveryResult`s (DELIVERED / FAILED with the time) from the results topic and
 * writes them into the action log in bulk updates; undecodable results are dead-lettered.
 *
 * @example
 * ```sh
 * KAFKA_BROKERS=127.0.0.1:9092 DATABASE_URL=postgres://… sluice run outreach-results --port 9483
 * ```
 */
export default defineJob({
  name: "outreach-results",
  description:
    "Outreach results topic → action log (delivered/failed, timestamp).",
  config: z
    .object({
      group: z.string().min(1).default("outreach-results"),
      resultsTopic: z.string().min(1).default(DEFAULT_TOPICS.results),
      deadLetterTopic: z.string().min(1).default(DEFAULT_TOPICS.deadLetters),
      partitions: z.number().int().positive().default(8),
      schema: z
        .string()
        .regex(/^[a-z][a-z0-9_]{0,47}$/)
        .default("outreach"),
      maxBatch: z.number().int().positive().default(1_000),
    })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    const brokers = kafkaBrokers(ctx.runtime);
    const admin = kafkaAdmin({ brokers });
    try {
      await admin.createTopics([
        { topic: c.resultsTopic, partitions: c.partitions },
        { topic: c.deadLetterTopic, partitions: 1 },
      ]);
    } finally {
      await admin.close();
    }
    const db = postgresFor(ctx, ctx.runtime);
    await migrateActionLog(db, c.schema);
    const source = ctx.addSource(
      kafkaSource<Buffer>({
        brokers,
        group: c.group,
        topics: [c.resultsTopic],
        decode: (b) => b, // Avro is decoded by the job, which dead-letters a bad frame
        deadLetterTopic: c.deadLetterTopic,
        maxInFlight: 5_000,
      }),
    );
    const deadLetters = ctx.addSink(
      kafkaSink<Buffer>({
        brokers,
        topic: c.deadLetterTopic,
        encode: (b) => b,
      }),
    );
    const stats = newResultsStats();
    const badRecords = new BadRecordCounters();
    // Dead letters on /metrics and in sluice.job_stats (the Pipelines dashboard).
    ctx.trackCounters({
      deadLetters: [{ name: "outreach-results", counters: badRecords }],
    });
    const done = runResults({
      jobName: ctx.name,
      source,
      actionLog: postgresActionLog(db, c.schema),
      deadLetters,
      deadLetterTopic: c.deadLetterTopic,
      logger: ctx.logger,
      stats,
      badRecords,
      maxBatch: c.maxBatch,
    });
    ctx.ready();
    await done;
    ctx.logger.info("results stopped", { ...stats });
  },
});

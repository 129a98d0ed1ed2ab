// `sluice run outreach-sender`: pages of job ids → action log → evaluation → outreach service.
import { z } from "zod";
import {
  kafkaAdmin,
  kafkaSink,
  kafkaSource,
} from "../../../connectors/kafka/index.js";
import { BadRecordCounters } from "../../../operators/dead-letter.js";
import { defineJob } from "../../../runtime/job.js";
import { OutreachServiceClient, SegmentServiceClient } from "../clients.js";
import { migrateActionLog, postgresActionLog } from "../postgres-action-log.js";
import { newSenderStats, runSender } from "../sender.js";
import {
  endpointOf,
  kafkaBrokers,
  outreachConfig,
  postgresFor,
} from "./config.js";

/**
 * Reads `JobIdPage`s from the jobs topic (one consumer group; scale by partitions), looks the
 * page up in the action log in one query, evaluates the jobs with nothing logged, plans the
 * emails, sends them in batches to the outreach service and confirms each answer; bad rows
 * and emails rejected or out of retries go to the dead-letter topic with the reason.
 *
 * @example
 * ```sh
 * KAFKA_BROKERS=127.0.0.1:9092 DATABASE_URL=postgres://… SLUICE_SECRETS__… \
 *   sluice run outreach-sender --config outreach.yaml --port 9482
 * ```
 */
export default defineJob({
  name: "outreach-sender",
  description:
    "Job-id pages → action log → evaluation → outreach service (bulk, idempotent).",
  config: z
    .object({
      ...outreachConfig,
      group: z.string().min(1).default("outreach-sender"),
      concurrency: z.number().int().positive().default(4),
      sendBatch: z.number().int().min(1).max(500).default(250),
      maxInFlight: z.number().int().positive().default(16),
    })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    const brokers = kafkaBrokers(ctx.runtime);
    const admin = kafkaAdmin({ brokers });
    try {
      await admin.createTopics([
        { topic: c.topics.jobs, partitions: c.partitions },
        { topic: c.topics.deadLetters, partitions: 1 },
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
        topics: [c.topics.jobs],
        decode: (b) => b, // Avro is decoded by the job, which dead-letters a bad frame
        deadLetterTopic: c.topics.deadLetters,
        maxInFlight: c.maxInFlight,
      }),
    );
    const deadLetters = ctx.addSink(
      kafkaSink<Buffer>({
        brokers,
        topic: c.topics.deadLetters,
        encode: (b) => b,
      }),
    );
    const stats = newSenderStats();
    const badRecords = new BadRecordCounters();
    // Dead letters on /metrics and in sluice.job_stats (the Pipelines dashboard).
    ctx.trackCounters({
      deadLetters: [{ name: "outreach-sender", counters: badRecords }],
    });
    const done = runSender({
      jobName: ctx.name,
      source,
      actionLog: postgresActionLog(db, c.schema),
      evaluation: new SegmentServiceClient(endpointOf(c, c.segmentServiceUrl)),
      outreach: new OutreachServiceClient(endpointOf(c, c.outreachServiceUrl)),
      deadLetters,
      deadLetterTopic: c.topics.deadLetters,
      logger: ctx.logger,
      stats,
      badRecords,
      concurrency: c.concurrency,
      sendBatch: c.sendBatch,
    });
    ctx.ready();
    const progress = setInterval(
      () => ctx.logger.info("sender progress", { ...stats }),
      10_000,
    );
    try {
      await done;
    } finally {
      clearInterval(progress);
      ctx.logger.info("sender stopped", { ...stats });
    }
  },
});

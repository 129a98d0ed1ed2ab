// `sluice run outreach-simulators`: the three outside services, simulated, for demos and tests.
import { z } from "zod";
import { kafkaAdmin, kafkaSink } from "../../../connectors/kafka/index.js";
import { defineJob } from "../../../runtime/job.js";
import { outreachCodecs } from "../avro.js";
import {
  startJobServiceSimulator,
  startOutreachServiceSimulator,
  startSegmentServiceSimulator,
} from "../simulators.js";
import { DEMO_SEGMENTS } from "../system.js";
import { DEFAULT_TOPICS } from "../types.js";
import { aborted, kafkaBrokers } from "./config.js";
import { secret } from "../../../runtime/config.js";

/**
 * Serves the segment/evaluation, job and outreach simulators on 127.0.0.1 (fixed ports), the
 * outreach simulator posting its delivery results to the results topic.
 *
 * @example
 * ```sh
 * KAFKA_BROKERS=127.0.0.1:9092 SLUICE_JOB__API_KEY=dev-key sluice run outreach-simulators
 * ```
 */
export default defineJob({
  name: "outreach-simulators",
  description:
    "Simulated segment/evaluation, job and outreach services (127.0.0.1).",
  config: z
    .object({
      apiKey: secret(),
      jobs: z.number().int().positive().default(10_000),
      segments: z.number().int().positive().default(4),
      segmentPort: z.number().int().min(0).max(65535).default(7201),
      jobPort: z.number().int().min(0).max(65535).default(7202),
      outreachPort: z.number().int().min(0).max(65535).default(7203),
      latencyMs: z.number().int().min(0).default(0),
      failureRate: z.number().min(0).max(1).default(0),
      resultsTopic: z.string().min(1).default(DEFAULT_TOPICS.results),
      partitions: z.number().int().positive().default(8),
    })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    const brokers = kafkaBrokers(ctx.runtime);
    const admin = kafkaAdmin({ brokers });
    try {
      await admin.createTopics([
        { topic: c.resultsTopic, partitions: c.partitions },
      ]);
    } finally {
      await admin.close();
    }
    const sink = ctx.addSink(
      kafkaSink<Buffer>({ brokers, topic: c.resultsTopic, encode: (b) => b }),
    );
    const codec = outreachCodecs().result;
    const segments = DEMO_SEGMENTS(c.jobs, c.segments);
    const chaos = { latencyMs: c.latencyMs, failureRate: c.failureRate };
    const apiKey = c.apiKey.reveal();
    const servers = [
      await startSegmentServiceSimulator({
        apiKey,
        segments,
        port: c.segmentPort,
        ...chaos,
      }),
      await startJobServiceSimulator({
        apiKey,
        segments,
        port: c.jobPort,
        ...chaos,
      }),
      await startOutreachServiceSimulator({
        apiKey,
        port: c.outreachPort,
        ...chaos,
        onResults: (rs) =>
          sink.write(
            rs.map((r) => ({ key: r.idempotencyKey, value: codec.encode(r) })),
          ),
      }),
    ];
    ctx.onShutdown(async () => {
      await Promise.all(servers.map((s) => s.close()));
    });
    ctx.logger.info("simulators listening", {
      segmentService: servers[0]?.url,
      jobService: servers[1]?.url,
      outreachService: servers[2]?.url,
    });
    ctx.ready();
    await aborted(ctx.signal);
  },
});

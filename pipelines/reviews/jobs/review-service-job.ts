// `sluice run reviews-service`: the review service (C.6.1) over Avro RPC, on Cassandra.
import { z } from "zod";
import { defineJob } from "../../../runtime/job.js";
import { startReviewService } from "../stack-wiring.js";
import {
  aborted,
  cassandraFor,
  DEFAULT_PORTS,
  identifier,
  port,
} from "./connections.js";

/**
 * Serves `ReviewService` (submit, get, bulk get) on the Cassandra `reviews` table, after
 * applying its CQL schema (`cql/create-keyspace.cql`, `cql/create-reviews.cql`).
 *
 * @example
 * ```sh
 * CASSANDRA_CONTACT_POINTS=127.0.0.1:9042 SLUICE_JOB__PORT=7101 sluice run reviews-service --port 9471
 * ```
 */
export default defineJob({
  name: "reviews-service",
  description: "The review service over Avro RPC, backed by Cassandra.",
  config: z
    .object({
      keyspace: identifier.default("reviews"),
      host: z.string().min(1).default("127.0.0.1"),
      port: port.default(DEFAULT_PORTS.review),
    })
    .strict(),
  async run(ctx) {
    const db = cassandraFor(ctx, ctx.runtime, ctx.config.keyspace);
    const server = await startReviewService(ctx, {
      cassandra: db,
      keyspace: ctx.config.keyspace,
      host: ctx.config.host,
      port: ctx.config.port,
    });
    ctx.logger.info("review service listening", {
      host: server.host,
      port: server.port,
      keyspace: ctx.config.keyspace,
    });
    ctx.ready();
    await aborted(ctx.signal);
  },
});

// `sluice run reviews-cdc`: Cassandra's change log of the reviews table → Kafka `reviews` (C.5.2).
import { join } from "node:path";
import { z } from "zod";
import { defineJob } from "../../../runtime/job.js";
import { startCdc } from "../stack-wiring.js";
import {
  aborted,
  cassandraSettings,
  identifier,
  kafkaBrokers,
  stateDir,
} from "./connections.js";

/**
 * Relays every change of `<keyspace>.reviews` from Cassandra's `cdc_raw` to the `reviews`
 * topic as ReviewEvents (ids only), resuming from the position file under the state dir.
 *
 * @example
 * ```sh
 * KAFKA_BROKERS=127.0.0.1:9092 CASSANDRA_CONTACT_POINTS=127.0.0.1:9042 sluice run reviews-cdc --port 9473
 * ```
 */
export default defineJob({
  name: "reviews-cdc",
  description: "Cassandra CDC of the reviews table → Kafka `reviews`.",
  config: z
    .object({
      keyspace: identifier.default("reviews"),
      topic: z.string().min(1).default("reviews"),
      /** Default `$SLUICE_STATE_DIR/reviews-cdc/<keyspace>.position.json`. */
      positionFile: z.string().min(1).optional(),
    })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    const positionFile =
      c.positionFile ??
      join(stateDir(), "reviews-cdc", `${c.keyspace}.position.json`);
    const { relay } = await startCdc(ctx, {
      brokers: kafkaBrokers(ctx.runtime),
      ...cassandraSettings(ctx.runtime),
      keyspace: c.keyspace,
      topic: c.topic,
      positionFile,
    });
    ctx.logger.info("cdc relay started", { positionFile, topic: c.topic });
    ctx.ready();
    await Promise.race([aborted(ctx.signal), relay.done]);
    ctx.logger.info("cdc relay stopping", { ...relay.stats });
  },
});

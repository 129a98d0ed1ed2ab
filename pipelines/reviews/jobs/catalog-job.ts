// `sluice run reviews-catalog`: the movie and user services (C.3.1, C.3.2) on PostgreSQL.
import { z } from "zod";
import { defineJob } from "../../../runtime/job.js";
import { startCatalogServices } from "../stack-wiring.js";
import {
  aborted,
  DEFAULT_PORTS,
  identifier,
  port,
  postgresFor,
} from "./connections.js";

/**
 * Migrates the catalogue schema, seeds a generated catalogue when the movie table is empty,
 * and serves `MovieService` and `UserService` over Avro RPC.
 *
 * @example
 * ```sh
 * DATABASE_URL=postgres://sluice:sluice@127.0.0.1:5432/sluice SLUICE_JOB__MOVIES=500 sluice run reviews-catalog --port 9472
 * ```
 */
export default defineJob({
  name: "reviews-catalog",
  description:
    "The movie and user services over Avro RPC, backed by PostgreSQL.",
  config: z
    .object({
      schema: identifier.default("reviews_catalog"),
      host: z.string().min(1).default("127.0.0.1"),
      moviePort: port.default(DEFAULT_PORTS.movie),
      userPort: port.default(DEFAULT_PORTS.user),
      movies: z.number().int().positive().default(300),
      users: z.number().int().positive().default(1_000),
      seed: z.number().int().positive().default(42),
    })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    const db = postgresFor(ctx, ctx.runtime);
    const { movieServer, userServer, seeded } = await startCatalogServices(
      ctx,
      {
        postgres: db,
        schema: c.schema,
        host: c.host,
        moviePort: c.moviePort,
        userPort: c.userPort,
        seed: { movies: c.movies, users: c.users, seed: c.seed },
      },
    );
    ctx.logger.info("catalogue services listening", {
      moviePort: movieServer.port,
      userPort: userServer.port,
      schema: c.schema,
      seededMovies: seeded,
    });
    ctx.ready();
    await aborted(ctx.signal);
  },
});

// `sluice run reviews-producer`: generated reviews → the review service (C.1.1).
import {
  catchError,
  from,
  lastValueFrom,
  map,
  mergeMap,
  of,
  takeUntil,
  fromEvent,
} from "rxjs";
import { Counter } from "prom-client";
import { z } from "zod";
import { defineJob } from "../../../runtime/job.js";
import { generateCatalog } from "../catalog.js";
import { reviewArrivals } from "../producer.js";
import { reviewServiceClient } from "../services.js";
import { DEFAULT_PORTS, endpoint } from "./connections.js";

/**
 * Submits generated reviews (Poisson arrivals over the same seeded catalogue as
 * `reviews-catalog`) to the review service over Avro RPC, `speedup` times faster than real
 * time, until `count` reviews or shutdown.
 *
 * @example
 * ```sh
 * SLUICE_JOB__RATE_PER_SECOND=5 SLUICE_JOB__SPEEDUP=60 SLUICE_JOB__COUNT=10000 sluice run reviews-producer --port 9476
 * ```
 */
export default defineJob({
  name: "reviews-producer",
  description: "Generated reviews → the review service over Avro RPC.",
  config: z
    .object({
      reviewService: endpoint(DEFAULT_PORTS.review),
      movies: z.number().int().positive().default(300),
      users: z.number().int().positive().default(1_000),
      seed: z.number().int().positive().default(42),
      ratePerSecond: z.number().positive().default(5),
      speedup: z.number().positive().default(1),
      count: z.number().int().positive().optional(),
      malformedShare: z.number().min(0).max(1).default(0),
      concurrency: z.number().int().positive().default(16),
    })
    .strict(),
  async run(ctx) {
    const c = ctx.config;
    const client = await reviewServiceClient({ ...c.reviewService });
    ctx.onShutdown(() => client.close());
    const catalog = generateCatalog({
      movies: c.movies,
      users: c.users,
      seed: c.seed,
    });
    const submitted = new Counter({
      name: "reviews_producer_submitted_total",
      help: "Reviews submitted to the review service, by result.",
      labelNames: ["result"],
      registers: [ctx.metrics],
    });
    ctx.ready();
    await lastValueFrom(
      reviewArrivals({
        catalog,
        seed: c.seed,
        ratePerSecond: c.ratePerSecond,
        speedup: c.speedup,
        malformedShare: c.malformedShare,
        ...(c.count !== undefined ? { count: c.count } : {}),
      }).pipe(
        takeUntil(fromEvent(ctx.signal, "abort")),
        mergeMap(
          (p) =>
            from(client.put(p.review)).pipe(
              map(() => "accepted"),
              catchError(() => of("rejected")),
            ),
          c.concurrency,
        ),
        map((result) => submitted.inc({ result })),
      ),
      { defaultValue: undefined },
    );
    ctx.logger.info("producer done");
  },
});

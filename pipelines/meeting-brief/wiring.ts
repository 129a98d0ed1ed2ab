// How the meeting-brief jobs, the demo and the tests get their stores and clients.
import { asapScheduler, lastValueFrom, observeOn } from "rxjs";
import type { Source } from "../../connectors/types.js";
import {
  memoryActionLog,
  memorySendAtQueue,
  migrateFanoutTables,
  postgresActionLog,
  postgresSendAtQueue,
  type ActionLog,
  type SendAtQueue,
} from "../../connectors/fanout/index.js";
import {
  createPostgresPool,
  migratePostgres,
  postgresDeadLetters,
  type PostgresPool,
} from "../../connectors/postgres/index.js";
import {
  memoryFiringStore,
  migrateScheduleTables,
  postgresFiringStore,
  scheduleSource,
  type Firing as ScheduledFiring,
  type FiringStore,
  type ScheduleSource,
} from "../../connectors/schedule/index.js";
import {
  smtpSender,
  smtpSenderOptions,
  type SmtpSender,
} from "../../connectors/smtp/index.js";
import { ackAfter } from "../../operators/ack-after.js";
import { SluiceError } from "../../operators/sluice-error.js";
import { ConfigError } from "../../runtime/config.js";
import type { JobContext } from "../../runtime/job.js";
import type { Logger } from "../../runtime/log.js";
import { GoogleCalendarClient } from "./calendar/client.js";
import type { calendarConfig, enrichmentConfig, smtpConfig } from "./config.js";
import { memoryDeadLetters, type BriefDeadLetters } from "./dead-letters.js";
import { EnrichmentClient } from "./enrichment/client.js";
import { memoryBriefRepo } from "./memory-repo.js";
import { migrateBrief, postgresBriefRepo } from "./postgres-repo.js";
import type { BriefRepo } from "./repo.js";
import type { RenderedBrief } from "./types.js";
import type { z } from "zod";

/** Every store the three jobs share. */
export interface BriefStores {
  readonly repo: BriefRepo;
  readonly queue: SendAtQueue<RenderedBrief>;
  readonly log: ActionLog;
  readonly deadLetters: BriefDeadLetters;
  readonly firings: FiringStore;
}

/**
 * Migrates and opens the stores on PostgreSQL, all in `schema`: the pipeline's tables, the
 * fan-out action log and send-at queue, the schedule's firing records and the dead letters.
 */
export async function postgresStores(
  db: PostgresPool,
  schema: string,
  queueName: string,
): Promise<BriefStores> {
  await migrateBrief(db, { schema });
  await migrateFanoutTables(db, { schema });
  await migrateScheduleTables(db, { schema });
  await migratePostgres(db, { schema }); // dead_letters (and the runtime's checkpoints)
  return {
    repo: postgresBriefRepo(db, schema),
    queue: postgresSendAtQueue<RenderedBrief>(db, queueName, { schema }),
    log: postgresActionLog(db, { schema }),
    deadLetters: postgresDeadLetters(db, { schema }),
    firings: postgresFiringStore(db, { schema }),
  };
}

/** The same stores in memory (embedded demo, unit tests). */
export function memoryStores(): BriefStores & {
  readonly deadLetters: ReturnType<typeof memoryDeadLetters>;
} {
  return {
    repo: memoryBriefRepo(),
    queue: memorySendAtQueue<RenderedBrief>(),
    log: memoryActionLog(),
    deadLetters: memoryDeadLetters(),
    firings: memoryFiringStore(),
  };
}

export function calendarClient(
  c: z.output<typeof calendarConfig>,
): GoogleCalendarClient {
  return new GoogleCalendarClient({
    baseUrl: c.baseUrl,
    tokenUrl: c.tokenUrl,
    clientId: c.clientId,
    clientSecret: c.clientSecret.reveal(),
    timeoutMs: c.timeoutMs,
  });
}

export function enrichmentClient(
  c: z.output<typeof enrichmentConfig>,
): EnrichmentClient {
  return new EnrichmentClient({
    baseUrl: c.baseUrl,
    apiKey: c.apiKey.reveal(),
    timeoutMs: c.timeoutMs,
  });
}

export function briefSmtpSender(c: z.output<typeof smtpConfig>): SmtpSender {
  return smtpSender(smtpSenderOptions(c));
}

/**
 * Runs `handle` for each firing of a schedule source, one at a time: a firing whose handler
 * resolves is recorded done, one that throws is recorded failed and logged (catch-up or the
 * next start of a run-once job runs it again). Resolves, when the source completes (run-once,
 * or closed at shutdown), with how many firings failed: a run-once job exits non-zero then, so
 * the CronJob's retry runs it again.
 */
export async function eachFiring(
  source: ScheduleSource,
  logger: Logger,
  handle: (firing: ScheduledFiring) => Promise<void>,
): Promise<number> {
  let failed = 0;
  await lastValueFrom(
    source.records().pipe(
      ackAfter((r) => handle(r.value), {
        onError: (error, r) => {
          failed++;
          logger.error("firing failed", {
            firing: r.value.id,
            error: error.message,
          });
        },
      }),
    ),
    { defaultValue: undefined },
  );
  return failed;
}

/**
 * The stores of a deployed meeting-brief job: a pool on the runtime's `postgres.url` (closed
 * at shutdown), migrated, in the job's schema.
 */
export async function jobStores(
  ctx: Pick<JobContext<unknown>, "runtime" | "onShutdown">,
  c: { readonly schema: string; readonly queue: string },
): Promise<BriefStores> {
  if (ctx.runtime.postgres === undefined)
    throw new ConfigError(["postgres.url must be set (or set DATABASE_URL)"]);
  const db = createPostgresPool({
    connectionString: ctx.runtime.postgres.url.reveal(),
  });
  ctx.onShutdown(() => db.end());
  return postgresStores(db, c.schema, c.queue);
}

/**
 * The loop of a scheduled meeting-brief job (prepare, retention): a schedule source on the
 * job's cron and zone (latest missed firing caught up), marked ready, each firing through
 * {@link eachFiring}. A `run-once` job with a failed firing throws, so it exits non-zero and
 * the CronJob's retry runs the firing again.
 */
export async function runFirings(
  ctx: Pick<JobContext<unknown>, "name" | "logger" | "addSource" | "ready">,
  c: {
    readonly cron: string;
    readonly timeZone: string;
    readonly mode: "run-once" | "continuous";
  },
  firings: FiringStore,
  handle: (firing: ScheduledFiring) => Promise<void>,
): Promise<void> {
  const source = scheduleSource({
    job: ctx.name,
    cron: c.cron,
    timeZone: c.timeZone,
    store: firings,
    mode: c.mode,
    catchUp: { policy: "latest" },
  });
  ctx.addSource(withAsyncAssignments(source));
  ctx.ready();
  const failed = await eachFiring(source, ctx.logger, handle);
  if (failed > 0 && c.mode === "run-once")
    throw new SluiceError(
      "PROCESS",
      `${ctx.name}: ${failed} firing(s) failed (see the log); they run again on the next start`,
    );
}

/**
 * The same source for `ctx.addSource`, with its assignment events delivered asynchronously.
 * Works around runtime/lifecycle.ts reading its own `entry` inside the `assignments()`
 * subscription before the variable is initialised: a source whose `assignments()` emits
 * synchronously (the schedule source, `of(...)`) throws "Cannot access 'entry' before
 * initialization" there. Consume `records()` from the original source.
 */
export function withAsyncAssignments<T>(s: Source<T>): Source<T> {
  return {
    name: s.name,
    connect: () => s.connect(),
    records: () => s.records(),
    assignments: () => s.assignments().pipe(observeOn(asapScheduler)),
    pause: (p) => s.pause(p),
    resume: (p) => s.resume(p),
    snapshot: () => s.snapshot(),
    commit: () => s.commit(),
    get inFlight() {
      return s.inFlight;
    },
    close: () => s.close(),
  };
}

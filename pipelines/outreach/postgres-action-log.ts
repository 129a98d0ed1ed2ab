import { readFileSync } from "node:fs";
import {
  migratePostgres,
  type PostgresPool,
} from "../../connectors/postgres/index.js";
import { substitute } from "../../connectors/postgres/sql.js";
import {
  advances,
  emptyCounts,
  type ActionEntry,
  type ActionLog,
  type ActionOutcome,
  type ActionState,
} from "./action-log.js";

const MIGRATIONS = new URL("./migrations/", import.meta.url);

function sql(name: string, schema: string): string {
  const raw = readFileSync(
    new URL(`./sql/${name}.sql`, import.meta.url),
    "utf8",
  );
  return substitute(raw, { schema }, `pipelines/outreach/sql/${name}.sql`);
}

interface Row {
  idempotency_key: string;
  firing_id: string;
  job_id: string;
  action_id: string;
  segment_id: string;
  template_id: string;
  subject: string;
  recipient_email: string;
  state: ActionState;
  message_id: string | null;
  reason: string | null;
  completed_at: Date | null;
}

/**
 * Creates the action log table in `schema` (numbered migrations in `migrations/`, idempotent).
 *
 * @example
 * ```ts
 * await migrateActionLog(db, "outreach");
 * ```
 */
export async function migrateActionLog(
  db: PostgresPool,
  schema: string,
): Promise<void> {
  // The sender and the results job start together and both migrate: migratePostgres
  // starts over when it loses a race on the catalogue to the other.
  await migratePostgres(db, {
    schema,
    directory: MIGRATIONS,
    versionTable: "outreach_migrations",
  });
}

/**
 * The action log on PostgreSQL (`<schema>.outreach_actions`): each call is one statement over
 * arrays (`unnest`, `= ANY`), so a page of a thousand jobs costs one round trip per step.
 *
 * @example
 * ```ts
 * const log = postgresActionLog(db, "outreach");
 * const due = await log.entries(firingId, jobIds);
 * ```
 */
export function postgresActionLog(db: PostgresPool, schema: string): ActionLog {
  const q = {
    select: sql("select-entries", schema),
    insert: sql("insert-plans", schema),
    update: sql("update-outcomes", schema),
    count: sql("count-states", schema),
  };
  return {
    async entries(firingId, jobIds) {
      const out = new Map<string, ActionEntry[]>();
      if (jobIds.length === 0) return out;
      const { rows } = await db.pool.query<Row>(q.select, [firingId, jobIds]);
      for (const r of rows) {
        const e: ActionEntry = {
          idempotencyKey: r.idempotency_key,
          firingId: r.firing_id,
          jobId: r.job_id,
          actionId: r.action_id,
          segmentId: r.segment_id,
          templateId: r.template_id,
          subject: r.subject,
          recipientEmail: r.recipient_email,
          state: r.state,
          messageId: r.message_id,
          reason: r.reason,
          completedAt: r.completed_at,
        };
        const list = out.get(r.job_id);
        if (list === undefined) out.set(r.job_id, [e]);
        else list.push(e);
      }
      return out;
    },
    async plan(actions) {
      if (actions.length === 0) return;
      await db.pool.query(q.insert, [
        actions.map((a) => a.idempotencyKey),
        actions.map((a) => a.firingId),
        actions.map((a) => a.jobId),
        actions.map((a) => a.actionId),
        actions.map((a) => a.segmentId),
        actions.map((a) => a.templateId),
        actions.map((a) => a.subject),
        actions.map((a) => a.recipientEmail),
      ]);
    },
    async record(outcomes) {
      // One row per key (the furthest state wins), so UPDATE … FROM sees each key once.
      const byKey = new Map<string, ActionOutcome>();
      for (const o of outcomes) {
        const prev = byKey.get(o.idempotencyKey);
        if (prev === undefined || advances(prev.state, o.state))
          byKey.set(o.idempotencyKey, o);
      }
      if (byKey.size === 0) return;
      const list = [...byKey.values()];
      await db.pool.query(q.update, [
        list.map((o) => o.idempotencyKey),
        list.map((o) => o.state),
        list.map((o) => o.messageId ?? null),
        list.map((o) => o.reason ?? null),
        list.map((o) => o.at),
      ]);
    },
    async counts(firingId) {
      const { rows } = await db.pool.query<{ state: ActionState; n: number }>(
        q.count,
        [firingId ?? null],
      );
      const c = emptyCounts();
      for (const r of rows) c[r.state] = Number(r.n);
      return c;
    },
  };
}

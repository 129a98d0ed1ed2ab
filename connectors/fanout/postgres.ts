import { randomUUID } from "node:crypto";
import { fileQuerier } from "../postgres/file-querier.js";
import { migratePostgres, type MigrationResult } from "../postgres/migrate.js";
import type { PostgresPool } from "../postgres/pool.js";
import { sqlDirectory } from "../postgres/sql.js";
import { SluiceError } from "../../operators/sluice-error.js";
import {
  idempotencyKey,
  plannedEntry,
  planStatusOf,
  type ActionEntry,
  type ActionLog,
  type ActionState,
  type PlanResult,
} from "./action-log.js";
import type { ClaimedItem, SendAtQueue } from "./send-at-queue.js";

/** Where the fan-out tables live. */
export interface FanoutTablesOptions {
  /** Default: the pool's schema. */
  readonly schema?: string;
}

const sql = sqlDirectory(
  new URL("./sql/", import.meta.url),
  "connectors/fanout/sql",
);

/**
 * Creates `action_log` and `send_at_queue` (postgrator, version table
 * `sluice_fanout_migrations`); idempotent.
 *
 * @example
 * ```ts
 * await migrateFanoutTables(db, { schema: "promo" });
 * ```
 */
export function migrateFanoutTables(
  db: PostgresPool,
  options: FanoutTablesOptions = {},
): Promise<MigrationResult> {
  return migratePostgres(db, {
    schema: options.schema ?? db.options.schema,
    versionTable: "sluice_fanout_migrations",
    directory: new URL("./migrations/", import.meta.url),
  });
}

function notPlanned(name: string, key: string): SluiceError {
  return new SluiceError(
    "NOT_FOUND",
    `${name}: no action planned for ${key} (plan before attempt/confirm/fail)`,
  );
}

interface ActionRow {
  key: string;
  firing_id: string;
  recipient: string;
  action: string;
  provider: string;
  state: ActionState;
  attempts: number;
  provider_id: string | null;
  reason: string | null;
  planned_at: string;
  updated_at: string;
  lease_until: string | null;
}

function actionEntry(r: ActionRow): ActionEntry {
  return {
    key: r.key,
    firingId: r.firing_id,
    recipient: r.recipient,
    action: r.action,
    provider: r.provider,
    state: r.state,
    attempts: r.attempts,
    providerId: r.provider_id ?? undefined,
    reason: r.reason ?? undefined,
    plannedAt: Number(r.planned_at),
    updatedAt: Number(r.updated_at),
    leaseUntil: r.lease_until === null ? undefined : Number(r.lease_until),
  };
}

/**
 * The {@link ActionLog} on PostgreSQL: `planMany` is one statement for a whole batch
 * (`unnest` + `ON CONFLICT DO NOTHING`), every transition one conditional `UPDATE`. Run
 * {@link migrateFanoutTables} first.
 *
 * @example
 * ```ts
 * const log = postgresActionLog(db, { schema: "promo" });
 * ```
 */
export function postgresActionLog(
  db: PostgresPool,
  options: FanoutTablesOptions = {},
): ActionLog {
  const schema = options.schema ?? db.options.schema;
  const name = `postgres-action-log:${schema}`;
  let closed = false;
  const query = fileQuerier(db, {
    sql,
    schema,
    name,
    isClosed: () => closed,
  });
  const planMany: ActionLog["planMany"] = async (keys, provider, atMs) => {
    const unique = [
      ...new Map(keys.map((k) => [idempotencyKey(k), k])).values(),
    ];
    const rows = await query<ActionRow & { inserted: boolean }>(
      "plan-actions",
      [
        unique.map(idempotencyKey),
        unique.map((k) => k.firingId),
        unique.map((k) => k.recipient),
        unique.map((k) => k.action),
        provider,
        atMs,
      ],
    );
    const byKey = new Map<string, PlanResult>();
    rows.forEach((r, i) => {
      const k = unique[i]!;
      if (r.inserted) {
        byKey.set(r.key, {
          status: "new",
          entry: plannedEntry(k, provider, atMs),
        });
      } else {
        const entry = actionEntry(r);
        byKey.set(r.key, { status: planStatusOf(entry, atMs), entry });
      }
    });
    return keys.map((k) => byKey.get(idempotencyKey(k))!);
  };
  return {
    name,
    planMany,
    async plan(key, provider, atMs) {
      const [r] = await planMany([key], provider, atMs);
      return r!;
    },
    async attempt(key, atMs, leaseMs) {
      const k = idempotencyKey(key);
      if ((await query("attempt-action", [k, atMs, leaseMs])).length > 0)
        return true;
      if ((await query("select-action", [k])).length === 0)
        throw notPlanned(name, k);
      return false;
    },
    async confirm(key, providerId, atMs) {
      const k = idempotencyKey(key);
      const rows = await query("confirm-action", [k, providerId ?? null, atMs]);
      if (rows.length === 0) throw notPlanned(name, k);
    },
    async fail(key, reason, atMs, state = "failed") {
      await query("fail-action", [idempotencyKey(key), reason, atMs, state]);
    },
    async get(key) {
      const [r] = await query<ActionRow>("select-action", [
        idempotencyKey(key),
      ]);
      return r === undefined ? undefined : actionEntry(r);
    },
    async listFiring(firingId) {
      return (await query<ActionRow>("select-firing-actions", [firingId])).map(
        actionEntry,
      );
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}

/**
 * A durable {@link SendAtQueue} on PostgreSQL, one named queue among many in
 * `send_at_queue`; payloads are stored as JSON (they must survive `JSON.stringify`).
 * Claims use `FOR UPDATE SKIP LOCKED` with a lease, so workers share the due items and a
 * crashed worker's items come back when their lease ends.
 *
 * @example
 * ```ts
 * const queue = postgresSendAtQueue<Email>(db, "meeting-brief", { schema: "briefs" });
 * ```
 */
export function postgresSendAtQueue<T>(
  db: PostgresPool,
  queueName: string,
  options: FanoutTablesOptions = {},
): SendAtQueue<T> {
  const schema = options.schema ?? db.options.schema;
  const name = `postgres-send-at:${schema}.${queueName}`;
  let closed = false;
  const query = fileQuerier(db, {
    sql,
    schema,
    name,
    isClosed: () => closed,
  });
  return {
    name,
    async enqueue(items) {
      if (items.length === 0) return 0;
      const rows = await query("enqueue-send-at", [
        queueName,
        items.map((i) => i.id),
        items.map((i) => i.dueAt),
        items.map((i) => JSON.stringify(i.payload)),
      ]);
      return rows.length;
    },
    async claim(nowMs, limit, leaseMs) {
      const token = randomUUID();
      const rows = await query<{
        id: string;
        due_at: string;
        payload: T;
        lease_token: string;
        attempts: number;
      }>("claim-send-at", [queueName, nowMs, limit, leaseMs, token]);
      return rows
        .map((r): ClaimedItem<T> => ({
          id: r.id,
          dueAt: Number(r.due_at),
          payload: r.payload,
          leaseToken: r.lease_token,
          attempts: r.attempts,
        }))
        .sort((a, b) => a.dueAt - b.dueAt || (a.id < b.id ? -1 : 1));
    },
    async complete(item, atMs) {
      await query("complete-send-at", [
        queueName,
        item.id,
        item.leaseToken,
        atMs,
      ]);
    },
    async release(item, atMs, dueAt) {
      await query("release-send-at", [
        queueName,
        item.id,
        item.leaseToken,
        dueAt ?? atMs,
      ]);
    },
    async pending() {
      const [r] = await query<{ pending: string }>("count-send-at", [
        queueName,
      ]);
      return Number(r?.pending ?? 0);
    },
    async nextDueAt() {
      const [r] = await query<{ next_due_at: string | null }>("count-send-at", [
        queueName,
      ]);
      return r?.next_due_at == null ? undefined : Number(r.next_due_at);
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}

import {
  inTransaction,
  migratePostgres,
  sqlDirectory,
  type MigrationResult,
  type PostgresPool,
} from "../../connectors/postgres/index.js";
import { fileQuerier } from "../../connectors/postgres/file-querier.js";
import { storedParticipant, type BriefRepo, type RunSummary } from "./repo.js";
import type { Company, Participant, StoredEvent } from "./types.js";

/** Default schema of the meeting-brief tables. */
export const BRIEF_SCHEMA = "meeting_brief";

/** Version table of this pipeline's migrations (apart from the runtime's `sluice_migrations`). */
const VERSION_TABLE = "meeting_brief_migrations";

const queries = sqlDirectory(
  new URL("./sql/", import.meta.url),
  "pipelines/meeting-brief/sql",
);
const sql = (name: string, schema: string): string => queries(name, { schema });

/**
 * Creates the meeting-brief tables from `pipelines/meeting-brief/migrations/` (postgrator,
 * numbered, idempotent), in their own schema and version table.
 *
 * @example
 * ```ts
 * await migrateBrief(db, { schema: "meeting_brief" }); // { applied: [1, 2, 3, 4, 5], version: 5 }
 * ```
 */
export function migrateBrief(
  db: PostgresPool,
  options: { readonly schema?: string } = {},
): Promise<MigrationResult> {
  return migratePostgres(db, {
    schema: options.schema ?? BRIEF_SCHEMA,
    versionTable: VERSION_TABLE,
    directory: new URL("./migrations/", import.meta.url),
  });
}

type Row = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null =>
  v === null || v === undefined ? null : Number(v);

function toParticipant(r: Row): Participant {
  const company: Company | null =
    r["company_id"] === null || r["company_id"] === undefined
      ? null
      : {
          id: Number(r["company_id"]),
          name: String(r["company_name"]),
          domain: str(r["company_domain"]),
          linkedinUrl: str(r["company_linkedin_url"]),
          employees: num(r["company_employees"]),
        };
  return {
    id: Number(r["id"]),
    email: String(r["email"]),
    firstName: str(r["first_name"]),
    lastName: str(r["last_name"]),
    avatar: str(r["avatar"]),
    title: str(r["title"]),
    linkedinUrl: str(r["linkedin_url"]),
    company,
    updatedMs: Number(r["updated_ms"]),
  };
}

/**
 * The {@link BriefRepo} on PostgreSQL (tables of {@link migrateBrief}). Event changes and
 * their sync token are written in one transaction, so a crash never stores a token whose
 * changes are missing.
 *
 * @example
 * ```ts
 * const repo = postgresBriefRepo(db, "meeting_brief");
 * const people = await repo.salesPeople();
 * ```
 */
export function postgresBriefRepo(
  db: PostgresPool,
  schema: string = BRIEF_SCHEMA,
): BriefRepo {
  const q = fileQuerier(db, { sql: queries, schema, name: "meeting-brief" });
  return {
    async salesPeople() {
      return (await q("select-sales-personnel", [])).map((r) => ({
        id: Number(r["id"]),
        name: String(r["name"]),
        email: str(r["email"]),
        accessToken: String(r["access_token"]),
        refreshToken: String(r["refresh_token"]),
        expiresMs: Number(r["expires"]),
      }));
    },
    async addSalesPerson(p) {
      const rows = await q("insert-sales-person", [
        p.name,
        p.email,
        p.accessToken,
        p.refreshToken,
        p.expiresMs,
      ]);
      return Number(rows[0]?.["id"]);
    },
    async saveAccessToken(id, accessToken, expiresMs) {
      await q("update-access-token", [id, accessToken, expiresMs]);
    },
    async syncToken(id) {
      const rows = await q("select-sync-token", [id]);
      return str(rows[0]?.["sync_token"]) ?? undefined;
    },
    async applyEventChanges(c) {
      await inTransaction(
        db.pool,
        "meeting-brief apply event changes",
        async (tx) => {
          if (c.full)
            await tx.query(sql("delete-calendar-events", schema), [
              c.salesPersonId,
            ]);
          if (c.deletes.length > 0)
            await tx.query(sql("delete-calendar-event", schema), [
              c.salesPersonId,
              [...c.deletes],
            ]);
          for (const e of c.upserts)
            await tx.query(sql("upsert-calendar-event", schema), [
              c.salesPersonId,
              e.eventId,
              e.startMs,
              e.endMs,
              e.updatedMs,
              JSON.stringify(e),
            ]);
          await tx.query(sql("upsert-sync-token", schema), [
            c.salesPersonId,
            c.nextSyncToken,
          ]);
        },
      );
    },
    async eventsStartingBetween(id, fromMs, toMs) {
      return (
        await q("select-events-starting-between", [id, fromMs, toMs])
      ).map((r) => r["event"] as StoredEvent);
    },
    async participantsByEmail(emails) {
      if (emails.length === 0) return new Map();
      const rows = await q("select-participants", [[...new Set(emails)]]);
      return new Map(rows.map(toParticipant).map((p) => [p.email, p]));
    },
    async saveParticipant(p, nowMs) {
      return inTransaction(
        db.pool,
        "meeting-brief save participant",
        async (tx) => {
          let company: Company | null = null;
          if (p.company !== null) {
            const c = p.company;
            const r = await tx.query(sql("upsert-company", schema), [
              c.name,
              c.domain,
              c.linkedinUrl,
              c.employees,
            ]);
            company = { id: Number((r.rows[0] as Row)["id"]), ...c };
          }
          const r = await tx.query(sql("upsert-participant", schema), [
            p.email,
            p.firstName,
            p.lastName,
            p.avatar,
            p.title,
            p.linkedinUrl,
            company?.id ?? null,
            nowMs,
          ]);
          return storedParticipant(
            Number((r.rows[0] as Row)["id"]),
            p,
            company,
            nowMs,
          );
        },
      );
    },
    async deleteParticipantsEnrichedBefore(cutoffMs) {
      return inTransaction(db.pool, "meeting-brief retention", async (tx) => {
        const p = await tx.query(sql("delete-old-participants", schema), [
          cutoffMs,
        ]);
        const c = await tx.query(sql("delete-orphan-companies", schema), []);
        const e = await tx.query(sql("delete-old-calendar-events", schema), [
          cutoffMs,
        ]);
        return {
          participants: p.rowCount ?? 0,
          companies: c.rowCount ?? 0,
          events: e.rowCount ?? 0,
        };
      });
    },
    async startRun(firing, nowMs) {
      await q("insert-run", [firing.id, firing.scheduledMs, nowMs]);
    },
    async finishRun(firingId, nowMs, summary) {
      await q("finish-run", [firingId, nowMs, JSON.stringify(summary)]);
    },
    async run(firingId) {
      const r = (await q("select-run", [firingId]))[0];
      if (r === undefined) return undefined;
      return {
        startedMs: Number(r["started_ms"]),
        finishedMs: num(r["finished_ms"]),
        summary: (r["summary"] ?? null) as RunSummary | null,
      };
    },
  };
}

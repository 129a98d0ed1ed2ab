import type { SluiceErrorCode, Stage } from "../../operators/sluice-error.js";
import { toPostgresError } from "./classify.js";
import type { PostgresPool } from "./pool.js";
import { sqlFile } from "./sql.js";

/** One dead letter as stored in `<schema>.dead_letters`. */
export interface DeadLetterRow {
  readonly job: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: number;
  readonly key?: string;
  readonly stage: Stage;
  readonly code: SluiceErrorCode;
  readonly reason: string;
  readonly payload?: Uint8Array;
  readonly headers?: { readonly [name: string]: string };
}

/**
 * Writes dead letters to `<schema>.dead_letters`. The row id is derived from job, origin and
 * stage, so the same dead letter written twice (a redelivery) stays one row.
 *
 * @example
 * ```ts
 * const dl = postgresDeadLetters(db);
 * await dl.write({ job: "enrich", topic: "reviews", partition: 0, offset: 42, stage: "decode", code: "DECODE", reason: "bad magic byte" });
 * ```
 */
export function postgresDeadLetters(
  db: PostgresPool,
  options: { readonly schema?: string } = {},
): { write(row: DeadLetterRow): Promise<void> } {
  const insert = sqlFile("insert-dead-letter", {
    schema: options.schema ?? db.options.schema,
  });
  return {
    async write(row) {
      const id = [
        row.job,
        row.topic ?? "",
        row.partition ?? "",
        row.offset ?? "",
        row.stage,
        row.key ?? "",
      ].join("/");
      try {
        await db.pool.query(insert, [
          id,
          row.job,
          row.topic ?? null,
          row.partition ?? null,
          row.offset ?? null,
          row.key ?? null,
          row.stage,
          row.code,
          row.reason,
          row.payload === undefined ? null : Buffer.from(row.payload),
          JSON.stringify(row.headers ?? {}),
        ]);
      } catch (error) {
        throw toPostgresError(error, `postgres dead letter ${row.job}`, {
          stage: row.stage,
          ...(row.topic !== undefined ? { topic: row.topic } : {}),
        });
      }
    },
  };
}

import type { DeadLetterRow } from "../../connectors/postgres/index.js";

/**
 * Where the meeting-brief jobs report a bad row (a sales person without email, an unparsable
 * event, a participant the API could not describe, a brief that could not be sent): the
 * reason, the stage and a key. `postgresDeadLetters` writes the same rows to
 * `<schema>.dead_letters`; {@link memoryDeadLetters} keeps them in a list.
 */
export interface BriefDeadLetters {
  write(row: DeadLetterRow): Promise<void>;
}

/**
 * Dead letters kept in memory (embedded default, tests); a row written twice (same job, stage
 * and key) stays one, as on PostgreSQL.
 *
 * @example
 * ```ts
 * const dl = memoryDeadLetters();
 * await dl.write({ job: "meeting-brief", stage: "validate", code: "VALIDATE", key: "sales-person/3", reason: "no email" });
 * ```
 */
export function memoryDeadLetters(): BriefDeadLetters & {
  readonly rows: DeadLetterRow[];
} {
  const rows: DeadLetterRow[] = [];
  const seen = new Set<string>();
  return {
    rows,
    write(row) {
      const id = `${row.job}/${row.stage}/${row.key ?? ""}`;
      if (!seen.has(id)) {
        seen.add(id);
        rows.push(row);
      }
      return Promise.resolve();
    },
  };
}

/**
 * Writes through to `inner` and keeps a copy of every row (the demo's summary reads them back
 * whatever the store).
 *
 * @example
 * ```ts
 * const dl = recordingDeadLetters(postgresDeadLetters(db));
 * ```
 */
export function recordingDeadLetters(
  inner: BriefDeadLetters,
): BriefDeadLetters & { readonly rows: DeadLetterRow[] } {
  const rows: DeadLetterRow[] = [];
  return {
    rows,
    async write(row) {
      await inner.write(row);
      rows.push(row);
    },
  };
}

import type { DeadLetterRow } from "../../connectors/postgres/index.js";
import { SluiceError } from "../../operators/sluice-error.js";
import type { BriefDeadLetters } from "./dead-letters.js";
import type { EnrichmentClient } from "./enrichment/client.js";
import type { BriefRepo } from "./repo.js";
import type { Participant } from "./types.js";

/** Participant data younger than this is used from the database without asking the API. */
export const FRESH_FOR_MS = 30 * 24 * 3_600_000;

/** What {@link enrichParticipants} found. */
export interface EnrichmentResult {
  /** Email → participant; absent when nobody is known (or the API failed and no copy exists). */
  readonly byEmail: ReadonlyMap<string, Participant>;
  readonly fromDb: number;
  readonly fromApi: number;
  /** The API knows nobody by that email (404). */
  readonly unknown: number;
  /** API calls that failed for good (dead-lettered); a stale copy is used when there is one. */
  readonly failed: number;
}

/** A plausible email: one @, a dot in the domain, no spaces. */
export const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * Enriches each email once: from the database when its row is fresher than 30 days, else
 * from the enrichment API (at most `concurrency` calls at once), then stored. An API failure
 * is a dead letter for that participant, never fatal: a stale copy is used if there is one.
 *
 * @example
 * ```ts
 * const r = await enrichParticipants(["alex@acme.example"], { repo, client, deadLetters, job: "meeting-brief", nowMs: Date.now() });
 * ```
 */
export async function enrichParticipants(
  emails: readonly string[],
  deps: {
    readonly repo: BriefRepo;
    readonly client: EnrichmentClient;
    readonly deadLetters: BriefDeadLetters;
    readonly job: string;
    readonly nowMs: number;
    readonly freshForMs?: number;
    readonly concurrency?: number;
  },
): Promise<EnrichmentResult> {
  const fresh = deps.freshForMs ?? FRESH_FOR_MS;
  const unique = [...new Set(emails.map((e) => e.toLowerCase()))].sort();
  const stored = await deps.repo.participantsByEmail(unique);
  const byEmail = new Map<string, Participant>();
  const toFetch: string[] = [];
  let fromDb = 0;
  for (const email of unique) {
    const p = stored.get(email);
    if (p !== undefined && deps.nowMs - p.updatedMs < fresh) {
      byEmail.set(email, p);
      fromDb++;
    } else toFetch.push(email);
  }
  let fromApi = 0;
  let unknown = 0;
  let failed = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < toFetch.length) {
      const email = toFetch[next++]!;
      try {
        const found = await deps.client.findByEmail(email);
        if (found === null) {
          unknown++;
          continue;
        }
        byEmail.set(email, await deps.repo.saveParticipant(found, deps.nowMs));
        fromApi++;
      } catch (error) {
        failed++;
        const stale = stored.get(email);
        if (stale !== undefined) byEmail.set(email, stale);
        await deps.deadLetters.write(deadLetter(deps.job, email, error));
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, deps.concurrency ?? 4) }, worker),
  );
  return { byEmail, fromDb, fromApi, unknown, failed };
}

function deadLetter(job: string, email: string, error: unknown): DeadLetterRow {
  const e = error instanceof SluiceError ? error : undefined;
  return {
    job,
    stage: "enrich",
    code: e?.code ?? "PROCESS",
    key: `participant/${email}`,
    reason: error instanceof Error ? error.message : String(error),
  };
}

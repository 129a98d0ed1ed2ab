import { FRESH_FOR_MS } from "./enrich.js";
import type { BriefRepo, RetentionResult } from "./repo.js";

/**
 * The daily clean-up (seed 001 step 6): deletes participants enriched 30 days ago or earlier
 * (`updated_at <= now - 30 days`), then companies no participant refers to any more, and
 * mirrored calendar events (their attendee emails) that ended 30 days ago or earlier.
 *
 * @example
 * ```ts
 * const { participants, companies, events } = await runRetention(repo, Date.now());
 * ```
 */
export function runRetention(
  repo: BriefRepo,
  nowMs: number,
  maxAgeMs: number = FRESH_FOR_MS,
): Promise<RetentionResult> {
  return repo.deleteParticipantsEnrichedBefore(nowMs - maxAgeMs);
}

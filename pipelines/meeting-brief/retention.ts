import { FRESH_FOR_MS } from "./enrich.js";
import type { BriefRepo } from "./repo.js";

/**
 * The daily clean-up (seed 001 step 6): deletes participants enriched 30 days ago or earlier
 * (`updated_at <= now - 30 days`), then companies no participant refers to any more.
 *
 * @example
 * ```ts
 * const { participants, companies } = await runRetention(repo, Date.now());
 * ```
 */
export function runRetention(
  repo: BriefRepo,
  nowMs: number,
  maxAgeMs: number = FRESH_FOR_MS,
): Promise<{ participants: number; companies: number }> {
  return repo.deleteParticipantsEnrichedBefore(nowMs - maxAgeMs);
}

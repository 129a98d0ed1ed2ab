/**
 * The outreach action log: one row per email, keyed by its idempotency key
 * (firing, job, action). The sender writes the plan (PLANNED) before it calls the outreach
 * service and confirms the answer after it (SENT, or DEAD with the reason); the results job
 * writes the final outcome (DELIVERED / FAILED with the time). Every call is bulk: one query
 * for a page of up to thousands of jobs, never one per job.
 */

/** State of one email in the log. */
export type ActionState = "PLANNED" | "SENT" | "DELIVERED" | "FAILED" | "DEAD";

/** One email as planned. */
export interface PlannedAction {
  readonly idempotencyKey: string;
  readonly firingId: string;
  readonly jobId: string;
  readonly actionId: string;
  readonly segmentId: string;
  readonly templateId: string;
  readonly subject: string;
  readonly recipientEmail: string;
}

/** A row of the log. */
export interface ActionEntry extends PlannedAction {
  readonly state: ActionState;
  readonly messageId: string | null;
  readonly reason: string | null;
  readonly completedAt: Date | null;
}

/** An outcome to write back. */
export interface ActionOutcome {
  readonly idempotencyKey: string;
  readonly state: "SENT" | "DELIVERED" | "FAILED" | "DEAD";
  readonly messageId?: string | null;
  readonly reason?: string | null;
  readonly at: Date;
}

/** Counts per state (for summaries and tests). */
export type ActionCounts = { readonly [S in ActionState]: number };

/** The action log contract; `memoryActionLog` and `postgresActionLog` implement it. */
export interface ActionLog {
  /**
   * Entries already logged for these jobs in this firing (one bulk query). A job without
   * entries has its actions due; a PLANNED entry was planned but its send not confirmed
   * (a crash): send it again under the same key.
   */
  entries(
    firingId: string,
    jobIds: readonly string[],
  ): Promise<ReadonlyMap<string, readonly ActionEntry[]>>;
  /** Inserts the plans (PLANNED); a key already logged is left as it is. */
  plan(actions: readonly PlannedAction[]): Promise<void>;
  /**
   * Applies outcomes. States only move forward: PLANNED → SENT → DEAD → DELIVERED | FAILED.
   * A late or repeated SENT never overwrites DELIVERED; the provider's own result wins over
   * a DEAD written when its answer was lost (it did send).
   */
  record(outcomes: readonly ActionOutcome[]): Promise<void>;
  /** Counts per state, of one firing or of all. */
  counts(firingId?: string): Promise<ActionCounts>;
}

const RANK: { readonly [S in ActionState]: number } = {
  PLANNED: 0,
  SENT: 1,
  DEAD: 2,
  DELIVERED: 3,
  FAILED: 3,
};

/** True when `next` may replace `current` (the forward-only rule of {@link ActionLog.record}). */
export function advances(current: ActionState, next: ActionState): boolean {
  return RANK[next] > RANK[current];
}

export const emptyCounts = (): { [S in ActionState]: number } => ({
  PLANNED: 0,
  SENT: 0,
  DELIVERED: 0,
  FAILED: 0,
  DEAD: 0,
});

/**
 * The embedded action log (a Map), for `sluice demo` and unit tests.
 *
 * @example
 * ```ts
 * const log = memoryActionLog();
 * await log.plan([action]);
 * await log.record([{ idempotencyKey: action.idempotencyKey, state: "SENT", messageId: "m1", at: new Date() }]);
 * ```
 */
export function memoryActionLog(): ActionLog & { readonly size: number } {
  const byKey = new Map<string, ActionEntry>();
  const byJob = new Map<string, string[]>();
  return {
    get size() {
      return byKey.size;
    },
    entries(firingId, jobIds) {
      const out = new Map<string, ActionEntry[]>();
      for (const jobId of jobIds) {
        const keys = byJob.get(`${firingId}\u0000${jobId}`);
        if (keys === undefined) continue;
        out.set(
          jobId,
          keys.map((k) => byKey.get(k)).filter((e) => e !== undefined),
        );
      }
      return Promise.resolve(out);
    },
    plan(actions) {
      for (const a of actions) {
        if (byKey.has(a.idempotencyKey)) continue;
        byKey.set(a.idempotencyKey, {
          ...a,
          state: "PLANNED",
          messageId: null,
          reason: null,
          completedAt: null,
        });
        const j = `${a.firingId}\u0000${a.jobId}`;
        const list = byJob.get(j);
        if (list === undefined) byJob.set(j, [a.idempotencyKey]);
        else list.push(a.idempotencyKey);
      }
      return Promise.resolve();
    },
    record(outcomes) {
      for (const o of outcomes) {
        const e = byKey.get(o.idempotencyKey);
        if (e === undefined || !advances(e.state, o.state)) continue;
        byKey.set(o.idempotencyKey, {
          ...e,
          state: o.state,
          messageId: o.messageId ?? e.messageId,
          reason: o.reason ?? e.reason,
          completedAt: o.state === "SENT" ? e.completedAt : o.at,
        });
      }
      return Promise.resolve();
    },
    counts(firingId) {
      const c = emptyCounts();
      for (const e of byKey.values())
        if (firingId === undefined || e.firingId === firingId) c[e.state]++;
      return Promise.resolve(c);
    },
  };
}

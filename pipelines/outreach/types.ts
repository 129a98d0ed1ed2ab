/**
 * The outreach system's records (seeds/000). Wire shapes are Avro (`avro/schemas/outreach/`);
 * the HTTP shapes of the outside services are in `clients.ts`.
 */

/** One hourly firing of the planner: the deterministic id every action log key starts with. */
export interface Firing {
  /** `<planner job name>@<scheduled instant ISO>`: the same hour always has the same id. */
  readonly id: string;
  /** The scheduled instant (epoch ms), not the wall clock when it ran. */
  readonly scheduledAt: number;
}

/** A page of job ids on the `outreach-jobs` topic (Avro `dev.sluice.outreach.JobIdPage`). */
export interface JobIdPage {
  readonly firingId: string;
  readonly scheduledAt: Date;
  readonly scheduleId: string;
  readonly segmentId: string;
  readonly page: number;
  readonly jobIds: readonly string[];
}

/** Final status the outreach service reports for an accepted email. */
export type DeliveryStatus = "DELIVERED" | "FAILED";

/** An asynchronous result on `outreach-results` (Avro `dev.sluice.outreach.DeliveryResult`). */
export interface DeliveryResult {
  readonly idempotencyKey: string;
  readonly messageId: string;
  readonly status: DeliveryStatus;
  readonly error: string | null;
  readonly completedAt: Date;
}

/** Topic names of one outreach deployment. */
export interface OutreachTopics {
  readonly jobs: string;
  readonly results: string;
  readonly deadLetters: string;
}

/** Default topic names. */
export const DEFAULT_TOPICS: OutreachTopics = {
  jobs: "outreach-jobs",
  results: "outreach-results",
  deadLetters: "outreach-dead-letters",
};

/**
 * The action log key of one email: (firing, recipient job, action). At most one send per key.
 *
 * @example
 * ```ts
 * idempotencyKey("outreach-planner@2026-01-01T10:00:00.000Z", "seg-1-job-7", "act-3");
 * ```
 */
export function idempotencyKey(
  firingId: string,
  jobId: string,
  actionId: string,
): string {
  return `${firingId}/${jobId}/${actionId}`;
}

/**
 * The firing of `jobName` scheduled at `scheduledAt` (its deterministic id).
 *
 * @example
 * ```ts
 * firingAt("outreach-planner", Date.UTC(2026, 0, 1, 10)).id; // "outreach-planner@2026-01-01T10:00:00.000Z"
 * ```
 */
export function firingAt(jobName: string, scheduledAt: number): Firing {
  return {
    id: `${jobName}@${new Date(scheduledAt).toISOString()}`,
    scheduledAt,
  };
}

import type { Sink } from "../../connectors/types.js";
import type { Logger } from "../../runtime/log.js";
import { outreachCodecs } from "./avro.js";
import type { JobServiceClient, SegmentServiceClient } from "./clients.js";
import type { Firing } from "./types.js";

/** What one firing of the planner needs. */
export interface PlannerDeps {
  readonly segments: Pick<
    SegmentServiceClient,
    "activeSegments" | "setProcessedAt"
  >;
  readonly jobs: Pick<JobServiceClient, "jobIds">;
  /** Where pages of job ids go (the `outreach-jobs` topic). */
  readonly sink: Sink<Buffer>;
  readonly topic: string;
  readonly logger: Logger;
  /** The feature flag: off → the firing does nothing but log that it skipped. */
  readonly enabled: boolean;
  /** Job ids per page asked of the job service (and per record on the topic). */
  readonly pageSize: number;
  /** Segments read at once. */
  readonly segmentConcurrency: number;
  /** Called after each page is written (progress). */
  readonly onPage?: (jobIds: number) => void;
  readonly now?: () => Date;
}

/** What one firing did. */
export interface PlannerReport {
  readonly firingId: string;
  readonly skipped: "feature-off" | null;
  readonly segments: number;
  readonly pages: number;
  readonly jobIds: number;
}

/**
 * One hourly firing: if the feature is on, asks the segment service for the segments of
 * active schedules, streams each segment's job ids from the job service page by page onto
 * the jobs topic (one Avro `JobIdPage` per page, keyed by segment and page so pages spread
 * over partitions), then sets the segment's processedAt. The next page is fetched while the
 * current one is written. A rerun of the same firing writes the same pages again; the sender's
 * action log makes that harmless.
 *
 * @example
 * ```ts
 * const report = await runPlannerFiring({ id: "outreach-planner@2026-01-01T10:00:00.000Z", scheduledAt }, deps);
 * ```
 */
export async function runPlannerFiring(
  firing: Firing,
  deps: PlannerDeps,
): Promise<PlannerReport> {
  const log = deps.logger.child({ firingId: firing.id });
  if (!deps.enabled) {
    log.info("outreach feature is off: firing skipped");
    return {
      firingId: firing.id,
      skipped: "feature-off",
      segments: 0,
      pages: 0,
      jobIds: 0,
    };
  }
  const codec = outreachCodecs().jobPage;
  const now = deps.now ?? (() => new Date());
  const segments = await deps.segments.activeSegments();
  log.info("active segments", { segments: segments.length });
  let pages = 0;
  let jobIds = 0;
  const queue = [...segments];
  const worker = async (): Promise<void> => {
    for (let seg = queue.shift(); seg !== undefined; seg = queue.shift()) {
      let page = 0;
      let writing: Promise<void> = Promise.resolve();
      for await (const ids of deps.jobs.jobIds(seg.segmentId, deps.pageSize)) {
        await writing;
        const value = codec.encode({
          firingId: firing.id,
          scheduledAt: new Date(firing.scheduledAt),
          scheduleId: seg.scheduleId,
          segmentId: seg.segmentId,
          page,
          jobIds: ids,
        });
        const key = `${seg.segmentId}:${page}`;
        page++;
        writing = deps.sink
          .write([
            { topic: deps.topic, key, value, timestamp: firing.scheduledAt },
          ])
          .then(() => {
            pages++;
            jobIds += ids.length;
            deps.onPage?.(ids.length);
          });
        // Awaited on the next turn; handled here so a failed write is not "unhandled" meanwhile.
        writing.catch(() => undefined);
      }
      await writing;
      await deps.segments.setProcessedAt(seg.segmentId, now(), firing.id);
      log.debug("segment planned", { segmentId: seg.segmentId, pages: page });
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, deps.segmentConcurrency) }, () =>
      worker(),
    ),
  );
  log.info("firing planned", { segments: segments.length, pages, jobIds });
  return {
    firingId: firing.id,
    skipped: null,
    segments: segments.length,
    pages,
    jobIds,
  };
}

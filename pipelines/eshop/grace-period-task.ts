import type { EshopBus } from "./bus.js";
import { eventId } from "./events.js";
import { publishRecord, publishSink } from "./plumbing.js";
import type { OrderViews, TaskRuns } from "./stores.js";

/** What one run of the grace-period task did. */
export interface GraceTaskResult {
  readonly runId: number;
  readonly confirmed: number;
}

/**
 * The seed's GracePeriodManagerTask: starts, publishes GracePeriodConfirmed for every
 * Submitted order whose grace period has ended, records the run (start, end, count, exit
 * message) and exits. Run it on a schedule (a CronJob) with Ordering in `grace.mode: task`.
 * Publishing twice is harmless: Ordering only moves a Submitted order.
 *
 * @example
 * ```ts
 * const { confirmed } = await runGracePeriodTask({ bus, views, runs, graceMs: 60_000 });
 * ```
 */
export async function runGracePeriodTask(o: {
  readonly bus: EshopBus;
  readonly views: OrderViews;
  readonly runs: TaskRuns;
  readonly graceMs: number;
  readonly now?: () => number;
}): Promise<GraceTaskResult> {
  const now = o.now ?? Date.now;
  const runId = await o.runs.start(now());
  const sink = publishSink(o.bus.sink());
  let confirmed = 0;
  try {
    await sink.connect();
    const due = await o.views.dueForGrace(now(), o.graceMs);
    const records = due.map((v) =>
      publishRecord(
        o.bus,
        undefined,
        "GracePeriodConfirmedIntegrationEvent",
        {
          id: eventId(v.orderId, "grace"),
          creationDate: new Date(now()),
          orderId: v.orderId,
        },
        String(v.orderId),
        { priority: v.priority },
      ),
    );
    if (records.length > 0)
      await sink.write(
        records.map((r) => ({
          key: r.key,
          value: r.value,
          headers: r.headers,
        })),
      );
    await sink.flush();
    confirmed = records.length;
    await o.runs.finish(runId, now(), confirmed, "COMPLETED");
    return { runId, confirmed };
  } catch (error) {
    await o.runs.finish(
      runId,
      now(),
      confirmed,
      `FAILED: ${error instanceof Error ? error.message : String(error)}`,
    );
    throw error;
  } finally {
    await sink.close();
  }
}

/**
 * The guard against a silent partial commit: a source that closes (or revokes) after its
 * drain timed out with records still in flight reports them loudly instead of committing
 * below them without a word. Sources call {@link reportUnsettled} after their drain.
 * @internal
 */

/** Records one partition emitted that were never settled. */
export interface UnsettledPartition {
  readonly topic: string;
  readonly partition: number;
  /** Records emitted and neither acked nor nacked. */
  readonly count: number;
  /** The oldest of them: the commit point stays below it. */
  readonly oldestOffset: number | undefined;
}

/** What {@link unsettledReport} found, with the message a user reads. */
export interface UnsettledReport {
  readonly source: string;
  readonly count: number;
  readonly partitions: readonly UnsettledPartition[];
  /** How long the source waited for them. */
  readonly waitedMs: number;
  /** True when not one record settled during the wait: nothing downstream is working on them. */
  readonly stalled: boolean;
  readonly likelyCause: string;
  readonly message: string;
}

/** The `type` of the process warning (`process.on("warning")`). */
export const UNSETTLED_WARNING = "SluiceUnsettledRecordsWarning";
/** The `code` of the process warning. */
export const UNSETTLED_CODE = "SLUICE_UNSETTLED_RECORDS";

/** Why records nobody is settling are stuck, most likely (also used by the runtime at shutdown). */
export const UNSETTLED_CAUSE =
  "nothing settled them while the source waited, so nothing will: the stream that took " +
  "them ended or dropped them. Likely a filter dropped records without acking (use " +
  "filterAck), a mergeMap/flatMap emitted nothing for a record (use flatMapAck), a branch " +
  "ignored records (use route or tee), or a window still holds them (no watermark closed it)";
const SLOW_CAUSE =
  "records were still being settled when the drain timed out: a slow sink or an operator " +
  "holding them (a window, a retry); raise drainTimeoutMs or flush before closing";

/**
 * Describes the records a source still holds after its drain, or `undefined` when there
 * are none. `inFlightBefore` is the in-flight count when the wait began: if it did not
 * move, nothing settled during the wait (stalled).
 */
export function unsettledReport(o: {
  readonly source: string;
  readonly action: "close" | "revoke";
  readonly waitedMs: number;
  readonly inFlightBefore: number;
  readonly partitions: readonly UnsettledPartition[];
}): UnsettledReport | undefined {
  const partitions = o.partitions
    .filter((p) => p.count > 0)
    .sort((a, b) =>
      a.topic === b.topic
        ? a.partition - b.partition
        : a.topic < b.topic
          ? -1
          : 1,
    );
  const count = partitions.reduce((n, p) => n + p.count, 0);
  if (count === 0) return undefined;
  const stalled = count >= o.inFlightBefore;
  const likelyCause = stalled ? UNSETTLED_CAUSE : SLOW_CAUSE;
  const where = partitions
    .map(
      (p) =>
        `${p.topic}/${p.partition}: ${p.count}` +
        (p.oldestOffset === undefined ? "" : ` from offset ${p.oldestOffset}`),
    )
    .join(", ");
  const message =
    `source ${o.source}: ${o.action} with ${count} record${count === 1 ? "" : "s"} ` +
    `never settled after waiting ${o.waitedMs} ms (${where}); the commit stays below ` +
    `them, so they will be delivered again. Cause: ${likelyCause}.`;
  return {
    source: o.source,
    count,
    partitions,
    waitedMs: o.waitedMs,
    stalled,
    likelyCause,
    message,
  };
}

/**
 * Reports records a source's drain left unsettled as a process warning (printed on stderr
 * unless the process silences warnings; `process.on("warning")` sees it with `name`
 * {@link UNSETTLED_WARNING} and `code` {@link UNSETTLED_CODE}). Returns the report, or
 * `undefined` when every record was settled.
 */
export function reportUnsettled(
  o: Parameters<typeof unsettledReport>[0],
): UnsettledReport | undefined {
  const report = unsettledReport(o);
  if (report !== undefined)
    process.emitWarning(report.message, {
      type: UNSETTLED_WARNING,
      code: UNSETTLED_CODE,
    });
  return report;
}

/** The oldest offset among `offsets`, or `undefined` when there is none. */
export function oldestOf(offsets: Iterable<number>): number | undefined {
  let oldest: number | undefined;
  for (const o of offsets) if (oldest === undefined || o < oldest) oldest = o;
  return oldest;
}

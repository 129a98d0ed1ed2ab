/**
 * Why a window result was emitted: `"on-time"` when the watermark passed the window's end,
 * `"late"` when a late record (within the allowed lateness) changed an already fired
 * window, `"update"` for each change before the window closed (`emit: "on-update"`).
 */
export type Firing = "on-time" | "late" | "update";

/**
 * The value of a window operator's result record. The record's key is the window key and
 * its timestamp `windowEnd - 1`.
 *
 * @example
 * ```ts
 * out$.pipe(filter(isRecord), map((r) => `${r.value.key} ${r.value.windowStart}: ${r.value.result}`));
 * ```
 */
export interface WindowResult<R> {
  readonly key: string | undefined;
  /** Inclusive start, epoch milliseconds. */
  readonly windowStart: number;
  /** Exclusive end, epoch milliseconds. */
  readonly windowEnd: number;
  readonly result: R;
  readonly firing: Firing;
}

/** Options shared by the window operators. */
export interface WindowOptions {
  /**
   * How long after a window fired it is kept for late records, in event time (default 0).
   * A late record within it updates the window and re-fires it (`firing: "late"`); a record
   * later than that is handed on once as a {@link Late} element.
   */
  readonly allowedLatenessMs?: number;
  /**
   * `"on-close"` (default): one result when the watermark passes the window's end, then one
   * per late record. `"on-update"`: a result after every record absorbed.
   */
  readonly emit?: "on-close" | "on-update";
  /**
   * Most windows open at once (over all keys) before the operator fails with a
   * `BACKPRESSURE` error: the bound on its state. Default 1 000 000.
   */
  readonly maxOpenWindows?: number;
}

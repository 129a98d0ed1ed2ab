import type { Firing, WindowOptions, WindowResult } from "../window-result.js";
import type { AckHandle, Origin, Record } from "../record.js";
import { SluiceError } from "../sluice-error.js";

const EMPTY_HEADERS = Object.freeze({});

/** Builds a window result record: key, value, timestamp `end - 1`. */
export function windowRecord<R>(
  key: string | undefined,
  start: number,
  end: number,
  result: R,
  firing: Firing,
  origin: Origin | undefined,
  ack: AckHandle,
): Record<WindowResult<R>> {
  return {
    key,
    value: { key, windowStart: start, windowEnd: end, result, firing },
    timestamp: end - 1,
    headers: EMPTY_HEADERS,
    origin,
    ack,
  };
}

export interface ResolvedWindowOptions {
  readonly lateness: number;
  readonly onUpdate: boolean;
  readonly maxOpen: number;
}

export function checkDuration(
  operator: string,
  field: string,
  value: number | undefined,
  allowZero: boolean,
): void {
  if (value === undefined) return;
  if (
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0) ||
    !Number.isInteger(value)
  ) {
    throw new SluiceError(
      "CONFIG",
      `${operator}.${field} must be a ${allowZero ? "non-negative" : "positive"} integer, got ${value}`,
    );
  }
}

export function resolveWindowOptions(
  operator: string,
  options: WindowOptions,
): ResolvedWindowOptions {
  checkDuration(operator, "allowedLatenessMs", options.allowedLatenessMs, true);
  checkDuration(operator, "maxOpenWindows", options.maxOpenWindows, false);
  return {
    lateness: options.allowedLatenessMs ?? 0,
    onUpdate: options.emit === "on-update",
    maxOpen: options.maxOpenWindows ?? 1_000_000,
  };
}

export function tooManyWindows(operator: string, max: number): SluiceError {
  return new SluiceError(
    "BACKPRESSURE",
    `${operator}: more than ${max} windows open (maxOpenWindows); is the watermark advancing?`,
  );
}

/** `x` rounded down to a multiple of `step` after `offset`, for negative times too. */
export function alignDown(x: number, step: number, offset: number): number {
  const r = (x - offset) % step;
  return r < 0 ? x - r - step : x - r;
}

import type { Observable, Subscriber, Subscription } from "rxjs";
import type { Element, Watermark } from "../element.js";
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

/**
 * Checks a window offset (any integer: negative shifts are as valid as positive ones, e.g.
 * `-8 h` for days in UTC+8, as Flink documents) and normalises it into `[0, step)`.
 */
export function windowOffset(
  operator: string,
  value: number | undefined,
  step: number,
): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value)) {
    throw new SluiceError(
      "CONFIG",
      `${operator}.offsetMs must be an integer, got ${value}`,
    );
  }
  const r = value % step;
  return r < 0 ? r + step : r;
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

/**
 * Subscribes an event-time operator to its source, the loop every window operator shares:
 * a record goes to `onRecord`; a watermark past the last one goes to `advance` (which fires
 * what it passes) and is then forwarded; an older or equal watermark is dropped. A throw
 * from either callback errors the output; the source's error and completion are passed on.
 */
export function subscribeEventTime<T>(
  source: Observable<Element<T>>,
  subscriber: Subscriber<Watermark>,
  onRecord: (r: Record<T>) => void,
  advance: (time: number) => void,
): Subscription {
  let watermark = -Infinity;
  return source.subscribe({
    next(e) {
      try {
        if ((e as { kind?: unknown }).kind === "watermark") {
          const time = (e as Watermark).time;
          if (time <= watermark) return;
          watermark = time;
          advance(time);
          subscriber.next(e as Watermark);
        } else onRecord(e as Record<T>);
      } catch (error) {
        subscriber.error(error);
      }
    },
    error(error) {
      subscriber.error(error);
    },
    complete() {
      subscriber.complete();
    },
  });
}

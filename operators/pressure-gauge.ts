import { BehaviorSubject, distinctUntilChanged, type Observable } from "rxjs";

/** The signal a source obeys: stop reading above the high watermark, read again below the low one. */
export type PressureSignal = "pause" | "resume";

/** Options of {@link pressureGauge}. Counts are records, sizes are bytes as the estimator reports them. */
export interface PressureGaugeOptions<T> {
  /** Signal `pause` when this many items are held. */
  readonly highCount: number;
  /** Signal `resume` when at most this many are held (and bytes are low). Default: half of `highCount`. */
  readonly lowCount?: number;
  /** Hard cap on items: `tryAdd` refuses above it. Default: twice `highCount`. */
  readonly maxCount?: number;
  /** Signal `pause` when this many bytes are held. Default: no byte watermark. */
  readonly highBytes?: number;
  /** Signal `resume` when at most this many bytes are held. Default: half of `highBytes`. */
  readonly lowBytes?: number;
  /** Hard cap on bytes. Default: twice `highBytes`. */
  readonly maxBytes?: number;
  /** Estimates an item's size in bytes. Default: 0 (count only). */
  readonly sizeOf?: (item: T) => number;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(
      `pressureGauge.${name} must be a positive number, got ${value}`,
    );
  return value;
}

/**
 * Counts what the operators of a job hold in their buffers (records and bytes) and turns it
 * into a `pause`/`resume` signal with hysteresis; a hard cap makes every buffer bounded even
 * when a source reacts late.
 *
 * A source subscribes to {@link PressureGauge.signal$} and pauses its partitions on `pause`;
 * operators that buffer call `tryAdd` when they hold an item and `remove` when they let it go.
 *
 * @example
 * ```ts
 * const gauge = pressureGauge({ highCount: 1_000, lowCount: 500, maxCount: 2_000 });
 * gauge.signal$.subscribe((s) => (s === "pause" ? source.pause() : source.resume()));
 * ```
 */
export class PressureGauge<T = unknown> {
  private held = 0;
  private heldBytes = 0;
  private readonly state = new BehaviorSubject<PressureSignal>("resume");
  private readonly highCount: number;
  private readonly lowCount: number;
  private readonly maxCount: number;
  private readonly highBytes: number;
  private readonly lowBytes: number;
  private readonly maxBytes: number;
  private readonly sizeOf: (item: T) => number;

  /** Current signal on subscribe, then every change. */
  readonly signal$: Observable<PressureSignal> = this.state.pipe(
    distinctUntilChanged(),
  );

  constructor(options: PressureGaugeOptions<T>) {
    this.highCount = positive("highCount", options.highCount);
    this.lowCount = options.lowCount ?? Math.floor(this.highCount / 2);
    this.maxCount = options.maxCount ?? this.highCount * 2;
    this.highBytes =
      options.highBytes === undefined
        ? Infinity
        : positive("highBytes", options.highBytes);
    this.lowBytes = options.lowBytes ?? this.highBytes / 2;
    this.maxBytes = options.maxBytes ?? this.highBytes * 2;
    this.sizeOf = options.sizeOf ?? (() => 0);
    if (this.lowCount < 0 || this.lowCount >= this.highCount)
      throw new RangeError(
        "pressureGauge.lowCount must be at least 0 and below highCount",
      );
    if (this.maxCount < this.highCount)
      throw new RangeError("pressureGauge.maxCount must be at least highCount");
    if (this.highBytes !== Infinity && this.lowBytes >= this.highBytes)
      throw new RangeError("pressureGauge.lowBytes must be below highBytes");
    if (this.maxBytes < this.highBytes)
      throw new RangeError("pressureGauge.maxBytes must be at least highBytes");
  }

  /** Items held now. */
  get count(): number {
    return this.held;
  }

  /** Bytes held now, by the estimator. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** True while the signal is `pause`. */
  get paused(): boolean {
    return this.state.value === "pause";
  }

  /** Counts `item` as held; returns false (and counts nothing) if that would pass a hard cap. */
  tryAdd(item: T): boolean {
    const size = this.sizeOf(item);
    if (this.held + 1 > this.maxCount || this.heldBytes + size > this.maxBytes)
      return false;
    this.held += 1;
    this.heldBytes += size;
    if (this.held >= this.highCount || this.heldBytes >= this.highBytes)
      this.state.next("pause");
    return true;
  }

  /** Counts `item` as released. */
  remove(item: T): void {
    this.held = Math.max(0, this.held - 1);
    this.heldBytes = Math.max(0, this.heldBytes - this.sizeOf(item));
    if (
      this.state.value === "pause" &&
      this.held <= this.lowCount &&
      this.heldBytes <= this.lowBytes
    )
      this.state.next("resume");
  }
}

/**
 * Creates a {@link PressureGauge}: bounded in count and bytes, with high/low watermarks.
 *
 * @example
 * ```ts
 * const gauge = pressureGauge<Record<Buffer>>({ highCount: 1_000, highBytes: 8 << 20, sizeOf: (r) => r.value.length });
 * gauge.signal$.subscribe((s) => (s === "pause" ? source.pause() : source.resume()));
 * records$.pipe(keyOrderedMap(step, { concurrency: 16, gauge }));
 * ```
 */
export function pressureGauge<T = unknown>(
  options: PressureGaugeOptions<T>,
): PressureGauge<T> {
  return new PressureGauge(options);
}

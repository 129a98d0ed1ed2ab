import { z } from "zod";
import { SluiceError } from "../../operators/sluice-error.js";

/**
 * Flow control and delivery options every partitioned source takes (memory, Kafka), declared
 * once: each connector's options extend it. Every time is in milliseconds.
 *
 * In-flight caps: the source pauses intake at `maxInFlight` unsettled records and resumes at
 * `lowWatermark`. Each owned partition with something to read is guaranteed its share of
 * `maxInFlight` (`floor(maxInFlight / owned partitions)`, at least 1), derived from the
 * partition count at every assignment: partitions running ahead in event time fill only
 * the rest of the pool, so the one holding the watermark back can always be read
 * (DESIGN.md "Records held by windows count as in flight").
 */
export interface SourceOptions {
  /** Name in logs and errors. Default `<connector>:<group>`. */
  readonly name?: string;
  /** Intake pauses at this many unsettled records. Default 1000. */
  readonly maxInFlight?: number;
  /** Intake resumes at or below this many. Default `floor(maxInFlight / 2)`. */
  readonly lowWatermark?: number;
  /**
   * Hard cap of one partition's unsettled records; its intake resumes at half. Default
   * `maxInFlight` (no cap beyond the shared one: the derived per-partition shares already
   * keep a partition that runs ahead from starving the others).
   */
  readonly maxInFlightPerPartition?: number;
  /** Commit the commit points this often; 0 only on commit(), revoke and close. Default 1000. */
  readonly commitIntervalMs?: number;
  /** How long revoke and close wait for in-flight records before committing what is done. Default 5000. */
  readonly drainTimeoutMs?: number;
  /** Delay before a nacked record is emitted again. Default 0. */
  readonly nackBackoffMs?: number;
  /** Where a group with no commit starts. Default `"earliest"`. */
  readonly startFrom?: "earliest" | "latest";
}

/** {@link SourceOptions} with defaults applied. */
export interface ResolvedSourceOptions {
  readonly name: string;
  readonly maxInFlight: number;
  readonly lowWatermark: number;
  /** At most `maxInFlight`. */
  readonly maxInFlightPerPartition: number;
  readonly commitIntervalMs: number;
  readonly drainTimeoutMs: number;
  readonly nackBackoffMs: number;
  readonly startFrom: "earliest" | "latest";
}

const positiveInt = z.number().int().min(1, { message: "must be ≥ 1" });
const nonNegative = z.number().min(0, { message: "must be ≥ 0" });

/**
 * The zod fields of {@link SourceOptions}, spread into each connector's strict schema.
 * @internal
 */
export const sourceOptionsShape = {
  name: z.string().min(1, { message: "must not be empty" }).optional(),
  maxInFlight: positiveInt.optional(),
  lowWatermark: z.number().int().min(0, { message: "must be ≥ 0" }).optional(),
  maxInFlightPerPartition: positiveInt.optional(),
  commitIntervalMs: nonNegative.optional(),
  drainTimeoutMs: nonNegative.optional(),
  nackBackoffMs: nonNegative.optional(),
  startFrom: z.enum(["earliest", "latest"]).optional(),
};

/**
 * Defaults {@link SourceOptions} (already checked against {@link sourceOptionsShape}) and
 * checks what the schema cannot: `lowWatermark` below `maxInFlight`. A bad option throws a
 * `CONFIG` {@link SluiceError} naming the field under `prefix`.
 *
 * @example
 * ```ts
 * resolveSourceOptions({ maxInFlight: 10, lowWatermark: 10 }, "kafka.source", "kafka:g");
 * // throws: kafka.source.lowWatermark must be less than maxInFlight (10 ≥ 10)
 * ```
 * @internal
 */
export function resolveSourceOptions(
  o: { readonly [K in keyof SourceOptions]?: SourceOptions[K] | undefined },
  prefix: string,
  defaultName: string,
): ResolvedSourceOptions {
  const maxInFlight = o.maxInFlight ?? 1000;
  const lowWatermark = o.lowWatermark ?? Math.floor(maxInFlight / 2);
  if (lowWatermark >= maxInFlight)
    throw new SluiceError(
      "CONFIG",
      `${prefix}.lowWatermark must be less than maxInFlight (${lowWatermark} ≥ ${maxInFlight})`,
      { context: { field: "lowWatermark" } },
    );
  return {
    name: o.name ?? defaultName,
    maxInFlight,
    lowWatermark,
    maxInFlightPerPartition: Math.min(
      o.maxInFlightPerPartition ?? maxInFlight,
      maxInFlight,
    ),
    commitIntervalMs: o.commitIntervalMs ?? 1_000,
    drainTimeoutMs: o.drainTimeoutMs ?? 5_000,
    nackBackoffMs: o.nackBackoffMs ?? 0,
    startFrom: o.startFrom ?? "earliest",
  };
}

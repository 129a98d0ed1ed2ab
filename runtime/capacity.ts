import { SluiceError } from "../operators/sluice-error.js";

/** A cap in a job's config: the field's name (as the user writes it) and its value. */
export interface CapField {
  readonly field: string;
  readonly value: number;
}

/**
 * Why an intake cap is above what a stage behind it can hold, or `undefined` when it is not.
 * Every record a source has in flight (emitted, not yet settled) can be waiting in one
 * buffering stage at once (a `dedupe` whose far store is slow, an `enrich` behind a slow
 * lookup), and a stage past its `maxBuffered` fails the job with BACKPRESSURE. So a source's
 * `maxInFlight` must never exceed a stage's buffer: derive the buffer from the cap, and
 * refuse a config that sets them the other way round, at start, naming both fields.
 *
 * @example
 * ```ts
 * z.object({ maxInFlight: z.number(), dedupeMaxBuffered: z.number().optional() }).superRefine((c, ctx) => {
 *   const why = capacityProblem({ field: "maxInFlight", value: c.maxInFlight }, { field: "dedupeMaxBuffered", value: c.dedupeMaxBuffered ?? c.maxInFlight });
 *   if (why !== undefined) ctx.addIssue({ code: "custom", path: ["dedupeMaxBuffered"], message: why });
 * });
 * ```
 */
export function capacityProblem(
  intake: CapField,
  stage: CapField,
): string | undefined {
  if (stage.value >= intake.value) return undefined;
  return `must be at least ${intake.field} (${stage.field} ${stage.value} < ${intake.field} ${intake.value}): every record the source has in flight can wait in this stage at once, and past its buffer the job fails with BACKPRESSURE; raise ${stage.field} or lower ${intake.field}`;
}

/**
 * Throws a CONFIG {@link SluiceError} when {@link capacityProblem} finds one: for wiring that
 * takes caps outside a job's config schema.
 *
 * @example
 * ```ts
 * assertCapacity({ field: "maxInFlight", value: 2_000 }, { field: "dedupe.maxBuffered", value: 1_000 }); // throws
 * ```
 */
export function assertCapacity(intake: CapField, stage: CapField): void {
  const why = capacityProblem(intake, stage);
  if (why !== undefined)
    throw new SluiceError("CONFIG", `${stage.field} ${why}`);
}

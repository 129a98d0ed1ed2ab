// Drives Sluice operators with a scenario, one record at a time, and records what each
// record made them emit, so the output can be compared step by step with a reference.
import { Subject, VirtualTimeScheduler, of } from "rxjs";
import type { Observable, OperatorFunction } from "rxjs";
import { linkedOrigins } from "../operators/partition-owner.js";
import type { AckHandle, Origin, Record } from "../operators/record.js";
import type { SluiceError } from "../operators/sluice-error.js";
import type { Event, RefResult } from "./reference.js";

export const TOPIC = "fuzz";

/** An ack handle that counts, and remembers what went wrong (an ack too many, a nack). */
export class AckProbe implements AckHandle {
  pending = 1;
  readonly errors: string[] = [];
  constructor(readonly id: number) {}
  retain(count: number): void {
    if (this.pending <= 0)
      this.errors.push(`retain(${count}) after the record was settled`);
    this.pending += count;
  }
  ack(): void {
    this.pending -= 1;
    if (this.pending < 0) this.errors.push("acked more often than retained");
  }
  nack(error: SluiceError): void {
    this.pending -= 1;
    this.errors.push(`nacked: ${error.message}`);
  }
  get settled(): boolean {
    return this.pending <= 0;
  }
}

/** The Sluice record of a generated event, with a probe as its handle. */
export function recordOf<T>(
  e: Event,
  value: T,
  probe: AckProbe,
  originOf: (topic: string, partition: number, offset: number) => Origin = (
    topic,
    partition,
    offset,
  ) => ({ topic, partition, offset }),
): Record<T> {
  return {
    key: e.key,
    value,
    timestamp: e.t,
    headers: {},
    origin: originOf(TOPIC, e.partition, e.id),
    ack: probe,
  };
}

/**
 * Origins linked to a source that owns partitions `0 … partitions - 1` from the start, as
 * the memory and Kafka sources link theirs: `withWatermarks` then holds the watermark for
 * an assigned partition that has sent nothing yet.
 */
export function ownedOrigins(
  partitions: number,
): (topic: string, partition: number, offset: number) => Origin {
  const owned = Array.from({ length: partitions }, (_, partition) => ({
    topic: TOPIC,
    partition,
  }));
  return linkedOrigins({
    assignments: () => of({ type: "assigned" as const, partitions: owned }),
  });
}

/**
 * Pushes the events one by one through `pipeline` on a virtual clock, then completes.
 * Returns the outputs grouped by the input that caused them (the last group: completion).
 */
export function drive<T, O>(
  events: readonly Event[],
  valueOf: (e: Event) => T,
  pipeline: (
    input: Observable<Record<T>>,
    scheduler: VirtualTimeScheduler,
  ) => Observable<O>,
  /** `"each"`: run the virtual clock out after every record; `"end"`: only after the last. */
  flush: "each" | "end" = "each",
  /** Assigned partitions, told through linked origins; unset: plain origins. */
  partitions?: number,
): { steps: O[][]; probes: AckProbe[]; error: unknown } {
  const originOf =
    partitions === undefined ? undefined : ownedOrigins(partitions);
  const scheduler = new VirtualTimeScheduler();
  const input = new Subject<Record<T>>();
  const steps: O[][] = [[]];
  let error: unknown;
  const sub = pipeline(input, scheduler).subscribe({
    next: (o) => steps[steps.length - 1]!.push(o),
    error: (e: unknown) => (error = e),
  });
  const probes: AckProbe[] = [];
  for (const e of events) {
    const probe = new AckProbe(e.id);
    probes.push(probe);
    input.next(recordOf(e, valueOf(e), probe, originOf));
    if (flush === "each") scheduler.flush();
    steps.push([]);
  }
  input.complete();
  scheduler.flush();
  sub.unsubscribe();
  // steps[i]: what record i made the pipeline emit; steps[events.length]: completion
  return { steps, probes, error };
}

/** A window result as compared: plain data in a fixed order. */
export function canonical(results: readonly RefResult[]): string[] {
  return results
    .map(
      (r) =>
        `${r.key} [${r.start},${r.end}) ${r.firing} ids=${r.ids.join(",")}`,
    )
    .sort();
}

/**
 * Groups per-input reference steps like {@link drive}'s output: group `i` holds what record
 * `i` and the watermark it caused emitted, the last group what the final `+Infinity`
 * watermark (the end of input) emitted.
 */
export function groupByRecord<S>(
  inputs: readonly (
    | { readonly kind: "record" }
    | { readonly kind: "watermark"; readonly time: number }
  )[],
  steps: readonly S[],
  records: number,
  merge: (into: S, from: S) => void,
  empty: () => S,
): S[] {
  const groups = Array.from({ length: records + 1 }, empty);
  let g = -1;
  for (const [i, input] of inputs.entries()) {
    if (input.kind === "record") g += 1;
    const target =
      input.kind === "watermark" && input.time === Infinity ? records : g;
    merge(groups[target]!, steps[i]!);
  }
  return groups;
}

/** A pipeline stage that keeps records as they are: for composing optional stages. */
export const same =
  <T>(): OperatorFunction<T, T> =>
  (s) =>
    s;

/** Lets the test runner's own messages through between runs of a long property. */
export function yieldToVitest(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

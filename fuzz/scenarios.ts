// Scenario generators of the fuzzer (fast-check arbitraries): partition counts, sizes, key
// skew, duplicates, disorder within and beyond the bound, idle and late-starting partitions,
// backlogs read in any partition order. A scenario is plain data, so a shrunk failing case
// prints as something a person can read and replay.
import fc from "fast-check";
import type { Event } from "./reference.js";

/** How arrival order is made from the generated events. */
export type ArrivalOrder =
  | "interleaved" // as generated: partitions mixed at random
  | "round-robin" // one of each partition in turn
  | "backlog"; // each partition's whole backlog, partitions in a random order

export type KeySkew = "one" | "distinct" | "zipf";

export interface Scenario {
  /** Partitions assigned (1-16); those without events are idle from the start. */
  readonly partitions: number;
  /** Bounded out-of-orderness of the watermarks, ms. */
  readonly bound: number;
  /** Records in arrival order. */
  readonly events: readonly Event[];
  /** Idempotency id per event id: duplicates share it (for dedupe). */
  readonly uids: readonly number[];
  readonly skew: KeySkew;
  readonly order: ArrivalOrder;
}

interface RawEvent {
  readonly p: number;
  readonly k: number;
  readonly step: number;
  readonly lag: number;
  readonly beyond: boolean;
  readonly dup: boolean;
}

const rawEvent: fc.Arbitrary<RawEvent> = fc.record({
  p: fc.nat(15),
  k: fc.nat(999),
  step: fc.nat(6),
  lag: fc.nat(40),
  beyond: fc.boolean(),
  dup: fc.boolean(),
});

/** Sizes 0, 1, 2, small and large, each with its own shrink range. */
const rawEvents = (large: number): fc.Arbitrary<RawEvent[]> =>
  fc.oneof(
    fc.array(rawEvent, { maxLength: 2 }),
    fc.array(rawEvent, { maxLength: 20, size: "max" }),
    fc.array(rawEvent, { maxLength: 60, size: "max" }),
    fc.array(rawEvent, { maxLength: large, size: "max" }),
  );

/** Zipf(1) rank in [0, keys) for a uniform pick in [0, 1000). */
function zipf(pick: number, keys: number): number {
  let total = 0;
  for (let r = 1; r <= keys; r++) total += 1 / r;
  let u = ((pick + 0.5) / 1000) * total;
  for (let r = 1; r <= keys; r++) {
    u -= 1 / r;
    if (u <= 0) return r - 1;
  }
  return keys - 1;
}

export interface ScenarioOptions {
  /** Largest "large" size. Default 300. */
  readonly large?: number;
  /** Allow records later than the bound within their partition. Default true. */
  readonly beyondBound?: boolean;
  /** Allow duplicates. Default true. */
  readonly duplicates?: boolean;
  /**
   * Every assigned partition sends a record at the scenario's earliest time before anything
   * else (its watermark is then known from the start whether or not the operator is told of
   * the assignment). Default false.
   */
  readonly announce?: boolean;
  /** Keys go to partitions by hash, as a Kafka producer does. Default: at random. */
  readonly keyedPartitions?: boolean;
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return Math.abs(h);
}

/** Scenarios for event-time jobs. */
export function scenarios(
  options: ScenarioOptions = {},
): fc.Arbitrary<Scenario> {
  return fc
    .record({
      partitions: fc.integer({ min: 1, max: 16 }),
      active: fc.integer({ min: 1, max: 16 }),
      bound: fc.constantFrom(0, 1, 3, 10),
      skew: fc.constantFrom<KeySkew>("one", "distinct", "zipf"),
      keys: fc.integer({ min: 2, max: 20 }),
      order: fc.constantFrom<ArrivalOrder>(
        "interleaved",
        "round-robin",
        "backlog",
      ),
      partitionOrder: fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
      base: fc.constantFrom(0, -37, 1_764_000_000_000),
      startGaps: fc.array(fc.constantFrom(0, 0, 25, 200), {
        minLength: 16,
        maxLength: 16,
      }),
      raw: rawEvents(options.large ?? 300),
    })
    .map((g) => build(g, options));
}

function build(
  g: {
    partitions: number;
    active: number;
    bound: number;
    skew: KeySkew;
    keys: number;
    order: ArrivalOrder;
    partitionOrder: number[];
    base: number;
    startGaps: number[];
    raw: RawEvent[];
  },
  options: ScenarioOptions,
): Scenario {
  const active = Math.min(g.active, g.partitions);
  const beyond = options.beyondBound ?? true;
  const dups = options.duplicates ?? true;
  const clocks = g.startGaps.map((gap) => g.base + gap);
  const generated: {
    key: string;
    t: number;
    partition: number;
    uid: number;
  }[] = [];
  for (const [i, r] of g.raw.entries()) {
    const key =
      g.skew === "one"
        ? "k0"
        : g.skew === "distinct"
          ? `k${i}`
          : `k${zipf(r.k, g.keys)}`;
    const partition = options.keyedPartitions
      ? hash(key) % active
      : r.p % active;
    clocks[partition]! += r.step;
    const lag =
      beyond && r.beyond && r.lag > g.bound
        ? r.lag // beyond the bound
        : r.lag % (g.bound + 1); // within it
    const e = { key, t: clocks[partition]! - lag, partition, uid: i };
    generated.push(e);
    if (dups && r.dup && i % 3 === 0) generated.push({ ...e });
  }
  let arrival = generated;
  if (g.order !== "interleaved") {
    const byPartition = new Map<number, typeof generated>();
    for (const e of generated) {
      const list = byPartition.get(e.partition) ?? [];
      list.push(e);
      byPartition.set(e.partition, list);
    }
    const order = [...byPartition.keys()].sort(
      (a, b) => g.partitionOrder[a]! - g.partitionOrder[b]! || a - b,
    );
    arrival = [];
    if (g.order === "backlog")
      for (const p of order) arrival.push(...byPartition.get(p)!);
    else
      for (let i = 0; arrival.length < generated.length; i++)
        for (const p of order) {
          const e = byPartition.get(p)![i];
          if (e !== undefined) arrival.push(e);
        }
  }
  if (options.announce === true) {
    const first = Math.min(g.base, ...arrival.map((e) => e.t));
    const hellos = Array.from({ length: g.partitions }, (_, p) => ({
      key: "hello",
      t: first,
      partition: p,
      uid: -1 - p,
    }));
    arrival = [...hellos, ...arrival];
  }
  const scenario: Scenario = {
    partitions: g.partitions,
    bound: g.bound,
    events: arrival.map((e, id) => ({
      id,
      key: e.key,
      t: e.t,
      partition: e.partition,
    })),
    uids: arrival.map((e) => e.uid),
    skew: g.skew,
    order: g.order,
  };
  return Object.assign(scenario, {
    [fc.toStringMethod]: () => describeScenario(scenario),
  });
}

/** A failing case as printed: one `id:key@time/partition` per record, in arrival order. */
export function describeScenario(s: Scenario): string {
  const events = s.events
    .map((e, i) => {
      const uid = s.uids[i];
      const dup = uid !== undefined && s.uids.indexOf(uid) !== i ? "(dup)" : "";
      return `${e.id}:${e.key}@${e.t}/p${e.partition}${dup}`;
    })
    .join(" ");
  return `{partitions: ${s.partitions}, bound: ${s.bound}, skew: ${s.skew}, order: ${s.order}, ${s.events.length} records: ${events}}`;
}

/** Seed and run budget: fixed in CI, from `npm run fuzz -- --seed S --runs N` otherwise. */
export function budget(ciRuns: number): {
  seed: number;
  numRuns: number;
  path?: string;
} {
  const seed = Number(process.env["FUZZ_SEED"] ?? 20261208);
  const scale = process.env["FUZZ_RUNS"];
  const numRuns = scale === undefined ? ciRuns : Number(scale);
  const path = process.env["FUZZ_PATH"];
  return path === undefined ? { seed, numRuns } : { seed, numRuns, path };
}

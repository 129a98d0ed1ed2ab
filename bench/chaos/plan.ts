// The fault plan: drawn from a seed, so a failing run is repeated exactly by its seed.

/** One kind of fault the suite injects. */
export type FaultKind =
  | "sigkill"
  | "sigstop"
  | "scale"
  | "kafka"
  | "postgres"
  | "cassandra"
  | "memcached";

/** Every kind, in the order `--faults` lists them. */
export const FAULT_KINDS: readonly FaultKind[] = [
  "sigkill",
  "sigstop",
  "scale",
  "kafka",
  "postgres",
  "cassandra",
  "memcached",
];

/** One step of the plan. */
export interface Fault {
  readonly kind: FaultKind;
  /** Which running instance (index into the running ones, modulo their count). */
  readonly target: number;
  /** How long the fault lasts: a service's downtime, a SIGSTOP's pause, a killed process's absence. */
  readonly durationMs: number;
  /** Quiet time before the fault, with records flowing. */
  readonly gapMs: number;
}

/** mulberry32: a small seeded PRNG (uniform in [0, 1)). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function between(r: () => number, lo: number, hi: number): number {
  return Math.round(lo + r() * (hi - lo));
}

/**
 * The plan for `seed`: every kind in `kinds` once, in a seeded order, then `extra` more drawn
 * at random from `kinds`. A SIGSTOP lasts past the consumer session timeout
 * (`sessionTimeoutMs` + 5–15 s), so the stopped member is expelled while still alive.
 */
export function faultPlan(options: {
  readonly seed: number;
  readonly kinds: readonly FaultKind[];
  readonly extra: number;
  readonly sessionTimeoutMs: number;
}): Fault[] {
  const r = prng(options.seed);
  const order = [...options.kinds];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (let i = 0; i < options.extra; i++)
    order.push(options.kinds[Math.floor(r() * options.kinds.length)]!);
  return order.map((kind) => ({
    kind,
    target: Math.floor(r() * 3),
    durationMs:
      kind === "sigstop"
        ? options.sessionTimeoutMs + between(r, 5_000, 15_000)
        : kind === "sigkill"
          ? between(r, 1_000, 5_000)
          : kind === "scale"
            ? between(r, 8_000, 15_000)
            : between(r, 2_000, 8_000),
    gapMs: between(r, 4_000, 12_000),
  }));
}

/** Parses `--faults a,b`: every name must be a fault kind. */
export function parseKinds(text: string): FaultKind[] {
  const kinds = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const k of kinds)
    if (!(FAULT_KINDS as readonly string[]).includes(k))
      throw new Error(
        `--faults: unknown fault "${k}" (one of ${FAULT_KINDS.join(", ")})`,
      );
  if (kinds.length === 0) throw new Error("--faults: name at least one fault");
  return kinds as FaultKind[];
}

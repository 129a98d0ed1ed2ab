import { seededRandom } from "../reviews/random.js";

/** One generated click-stream event. */
export interface DemoEvent {
  readonly user: string;
  readonly action: "view" | "click" | "buy";
  readonly timestamp: number;
}

export interface GenerateOptions {
  readonly events: number;
  readonly keys: number;
  readonly seed: number;
  /** Event-time start, epoch ms. */
  readonly startMs: number;
  /** Mean event-time gap between events, ms. */
  readonly meanGapMs: number;
  /** Events arrive up to this much out of order. */
  readonly maxDisorderMs: number;
  /** Share of events that arrive far too late (beyond any allowed lateness). */
  readonly lateShare: number;
  /** How late those are, ms. */
  readonly lateByMs: number;
}

/**
 * Generates events with Zipf-like key popularity (a few users are very active), Poisson
 * arrivals in event time, bounded disorder, and a small share of very late events.
 */
export function* generateEvents(o: GenerateOptions): Generator<DemoEvent> {
  const random = seededRandom(o.seed);
  // Zipf(s = 1.1) by inverse CDF over a precomputed table.
  const weights = Array.from(
    { length: o.keys },
    (_, i) => 1 / Math.pow(i + 1, 1.1),
  );
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let acc = 0;
  for (const w of weights) cdf.push((acc += w / total));
  const pickKey = (): number => {
    const u = random();
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  let now = o.startMs;
  for (let i = 0; i < o.events; i++) {
    now += -Math.log(1 - random()) * o.meanGapMs;
    let timestamp = Math.round(now - random() * o.maxDisorderMs);
    if (random() < o.lateShare) timestamp -= o.lateByMs;
    const r = random();
    const action = r < 0.8 ? "view" : r < 0.97 ? "click" : "buy";
    yield { user: `user-${pickKey()}`, action, timestamp };
  }
}

import { filter, lastValueFrom, map, reduce, tap } from "rxjs";
import {
  memorySink,
  memorySource,
  MemoryLog,
} from "../../connectors/memory/index.js";
import { writeTo } from "../../connectors/write-to.js";
import { counter } from "../../operators/aggregate.js";
import { isRecord, type Element } from "../../operators/element.js";
import type { WindowResult } from "../../operators/window-result.js";
import { derive } from "../../operators/record.js";
import { routeLate } from "../../operators/route-late.js";
import { tumblingWindow } from "../../operators/tumbling-window.js";
import { withWatermarks } from "../../operators/with-watermarks.js";
import { progress } from "../../runtime/progress.js";
import { generateEvents, type DemoEvent } from "./generate.js";

export interface DemoOptions {
  readonly events: number;
  readonly keys: number;
  readonly partitions: number;
  readonly windowMs: number;
  readonly seed: number;
}

/** A window count as written to the `user-counts` topic. */
export interface UserCount {
  readonly user: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly events: number;
}

export interface DemoReport {
  readonly produced: number;
  readonly counted: number;
  readonly late: number;
  readonly windowsFired: number;
  readonly resultsWritten: number;
  readonly allCommitted: boolean;
  readonly matchesReference: boolean;
  readonly recordsPerSec: number;
  readonly top: readonly UserCount[];
}

const OUT_OF_ORDER_MS = 5_000;
const ALLOWED_LATENESS_MS = 10_000;

/**
 * The demo job: a keyed count of click-stream events per user in event-time tumbling
 * windows, on the embedded in-memory log. Events arrive out of order (bounded by 5 s) and a
 * few arrive far too late; those go to the `events-late` topic instead of being lost. Every
 * record is acknowledged only when the window result holding it is written, so at the end
 * the consumer group's committed offsets reach the end of every partition. The counts are
 * checked against a plain reference count over the same events.
 */
export async function runKeyedCount(
  options: DemoOptions,
  onProgress?: (done: number) => void,
): Promise<DemoReport> {
  const log = new MemoryLog();
  log.createTopic("events", { partitions: options.partitions });
  log.createTopic("user-counts", { partitions: options.partitions });
  log.createTopic("events-late", { partitions: 1 });

  const generated: DemoEvent[] = [];
  for (const e of generateEvents({
    events: options.events,
    keys: options.keys,
    seed: options.seed,
    startMs: Date.UTC(2026, 10, 22, 9, 0, 0),
    meanGapMs: 10,
    maxDisorderMs: OUT_OF_ORDER_MS,
    lateShare: 0.001,
    lateByMs: 10 * 60_000,
  })) {
    generated.push(e);
    log.append("events", { key: e.user, value: e, timestamp: e.timestamp });
  }

  // Inputs of open windows count as in flight until their window's result is written, so a
  // partition's cap must hold its share of a window (~6 000 events a minute in all). Keys are
  // skewed, so partitions run at different event times; the per-partition cap makes the
  // ones running ahead wait for the one holding the watermark back.
  const source = memorySource<DemoEvent>(log, {
    group: "demo-keyed-count",
    topics: ["events"],
    maxInFlight: 40_000,
    maxInFlightPerPartition: 10_000,
    stopAtEnd: true,
  });
  const countsSink = memorySink<UserCount>(log, { topic: "user-counts" });
  const lateSink = memorySink<DemoEvent>(log, { topic: "events-late" });
  await source.connect();
  await countsSink.connect();
  await lateSink.connect();

  let counted = 0;
  // A window fired again by a record within the allowed lateness carries its whole count,
  // not the difference: count each window's latest result once.
  const latest = new Map<string, number>();
  let windowsFired = 0;
  let late = 0;
  let seen = 0;
  const started = process.hrtime.bigint();
  const written = await lastValueFrom(
    source.records().pipe(
      tap(() => {
        seen += 1;
        if (seen % 5_000 === 0) onProgress?.(seen);
      }),
      withWatermarks<DemoEvent>({ maxOutOfOrdernessMs: OUT_OF_ORDER_MS }),
      tumblingWindow({
        sizeMs: options.windowMs,
        allowedLatenessMs: ALLOWED_LATENESS_MS,
        aggregate: counter<DemoEvent>(),
      }),
      routeLate<Element<WindowResult<number>>, DemoEvent>((late$) =>
        late$.pipe(
          tap(() => (late += 1)),
          writeTo(lateSink, { maxBatch: 100 }),
        ),
      ),
      filter(isRecord),
      map((r) => {
        windowsFired += 1;
        const window = `${r.value.key ?? ""}\u0000${r.value.windowStart}`;
        counted += r.value.result - (latest.get(window) ?? 0);
        latest.set(window, r.value.result);
        return derive(r, {
          user: r.value.key ?? "",
          windowStart: r.value.windowStart,
          windowEnd: r.value.windowEnd,
          events: r.value.result,
        });
      }),
      writeTo(countsSink, { maxBatch: 500 }),
      reduce((n, res) => n + res.count, 0),
    ),
    { defaultValue: 0 },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  onProgress?.(seen);
  await source.close();

  let allCommitted = true;
  for (let p = 0; p < options.partitions; p++) {
    // a partition that got no events has nothing to commit: it starts where it ends
    const committed =
      log.committed("demo-keyed-count", "events", p) ??
      log.startOffset("events", p);
    if (committed !== log.endOffset("events", p)) allCommitted = false;
  }

  // Reference: a plain per-user count over the generated events must equal what the job
  // counted in windows plus what it sent to the late topic, user by user.
  const reference = new Map<string, number>();
  for (const e of generated)
    reference.set(e.user, (reference.get(e.user) ?? 0) + 1);
  // A user's results are in one partition, in order: a late firing replaces the window's count.
  const final = new Map<string, UserCount>();
  for (let p = 0; p < options.partitions; p++) {
    for (const entry of log.read(
      "user-counts",
      p,
      0,
      Number.MAX_SAFE_INTEGER,
    )) {
      const c = entry.value as UserCount;
      final.set(`${c.user}\u0000${c.windowStart}`, c);
    }
  }
  const byUser = new Map<string, number>();
  const byWindow = new Map<number, UserCount[]>();
  for (const c of final.values()) {
    byUser.set(c.user, (byUser.get(c.user) ?? 0) + c.events);
    const list = byWindow.get(c.windowStart) ?? [];
    list.push(c);
    byWindow.set(c.windowStart, list);
  }
  // The busiest window: the one with the most events in all.
  let busiest: UserCount[] = [];
  let busiestTotal = -1;
  for (const list of byWindow.values()) {
    const total = list.reduce((n, c) => n + c.events, 0);
    if (total > busiestTotal) {
      busiestTotal = total;
      busiest = list;
    }
  }
  const lateByUser = new Map<string, number>();
  for (const entry of log.read("events-late", 0, 0, Number.MAX_SAFE_INTEGER)) {
    const e = entry.value as DemoEvent;
    lateByUser.set(e.user, (lateByUser.get(e.user) ?? 0) + 1);
  }
  let matchesReference = true;
  for (const [user, n] of reference) {
    if ((byUser.get(user) ?? 0) + (lateByUser.get(user) ?? 0) !== n)
      matchesReference = false;
  }

  return {
    produced: generated.length,
    counted,
    late,
    windowsFired,
    resultsWritten: written,
    allCommitted,
    matchesReference,
    recordsPerSec: Math.round(seen / seconds),
    top: [...busiest].sort((a, b) => b.events - a.events).slice(0, 5),
  };
}

/** `sluice demo`: runs {@link runKeyedCount} with a progress bar and prints what happened. */
export async function runDemo(options: DemoOptions): Promise<void> {
  console.log(
    `Sluice demo: keyed count per user in ${options.windowMs / 1000} s event-time tumbling windows\n` +
      `  ${options.events.toLocaleString("en")} generated click events, ${options.keys.toLocaleString("en")} users (Zipf), ${options.partitions} partitions, in-memory log\n` +
      `  events up to ${OUT_OF_ORDER_MS / 1000} s out of order; 0.1 % arrive 10 min late (beyond the ${ALLOWED_LATENESS_MS / 1000} s allowed lateness)\n`,
  );
  const bar = progress("records", options.events);
  const report = await runKeyedCount(options, (done) => bar.update(done));
  bar.stop();
  const iso = (ms: number): string => new Date(ms).toISOString().slice(11, 19);
  console.log(
    `\nwindow results written to user-counts: ${report.resultsWritten.toLocaleString("en")} (${report.windowsFired.toLocaleString("en")} firings)`,
  );
  console.log(
    `events counted in windows:            ${report.counted.toLocaleString("en")}`,
  );
  console.log(
    `late events sent to events-late:      ${report.late.toLocaleString("en")}`,
  );
  if (report.top[0] !== undefined) {
    console.log(
      `\nbusiest users in the busiest window (${iso(report.top[0].windowStart)}–${iso(report.top[0].windowEnd)} UTC):`,
    );
    for (const c of report.top)
      console.log(`  ${c.user.padEnd(12)} ${String(c.events).padStart(6)}`);
  }
  console.log(`\nchecks:`);
  console.log(
    `  counted + late = produced (${report.counted + report.late} = ${report.produced}): ${report.counted + report.late === report.produced ? "yes" : "NO"}`,
  );
  console.log(
    `  per-user counts match a plain reference count:          ${report.matchesReference ? "yes" : "NO"}`,
  );
  console.log(
    `  committed offsets reached the end of every partition:   ${report.allCommitted ? "yes" : "NO"}`,
  );
  console.log(
    `\nthroughput: ${report.recordsPerSec.toLocaleString("en")} records/s (one process, including the in-memory log and ack tracking)`,
  );
  if (!(
    report.matchesReference &&
    report.allCommitted &&
    report.counted + report.late === report.produced
  ))
    process.exitCode = 1;
}

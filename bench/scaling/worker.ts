/**
 * One worker process of `sluice bench scaling`: a member of a consumer group running the
 * windowed count (`bench/peers/windowed-count.ts`) over its partitions of a Nexmark topic.
 * Driven over the IPC channel by `bench/scaling/processes.ts`:
 *   parent → `{ type: "go" }` (start fetching), `{ type: "stop" }` (close and exit);
 *   worker → `{ type: "assigned", partitions }`, `{ type: "progress", processed, rss,
 *   heapUsed, liveHeap, inFlight, cpuSeconds }` every 200 ms, `{ type: "error", message }`.
 * It joins the group paused, so the parent can wait for a stable assignment before the clock
 * starts, and every worker's inputs are counted once.
 */
import { identity, map, tap } from "rxjs";
import { kafkaSource } from "../../connectors/kafka/index.js";
import { isRecord } from "../../operators/element.js";
import { rateLimit } from "../../operators/rate-limit.js";
import { TokenBucket } from "../../operators/token-bucket.js";
import { nexmarkCodec } from "../nexmark/avro.js";
import { unkeyed } from "../nexmark/kafka.js";
import type { NexmarkEvent } from "../nexmark/generator.js";
import { windowedCount } from "../peers/windowed-count.js";

export interface WorkerConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly group: string;
  /** Unsettled inputs the source allows (windows hold their inputs until they fire). */
  readonly maxInFlight: number;
  /**
   * Extra work per input, in µs of busy CPU (default 0): stands for a heavier job than the
   * bare count, such as an enrichment that parses, looks up and computes per event. It caps
   * the worker at under 1 000 000 / `costMicros` inputs/s, so the overload bench can offer
   * several times what the worker processes from a producer on the same machine.
   */
  readonly costMicros?: number;
  /**
   * Paces the job to this many inputs/s with `rateLimit` on a `TokenBucket` (default: not
   * paced): stands for a job bound by an outside quota (an enrichment API allowing so many
   * calls/s). Inputs wait in the operator unacknowledged, so only the source's `maxInFlight`
   * keeps them from piling up in memory.
   */
  readonly ratePerSec?: number;
  /**
   * Runs a full garbage collection this often and reports the heap left after it (`liveHeap`):
   * what the worker retains, without the garbage `heapUsed` carries until V8 next collects.
   * The parent starts the worker with `--expose-gc` when set. Default: never.
   */
  readonly gcEveryMs?: number;
}

export type ToWorker = { readonly type: "go" } | { readonly type: "stop" };
export type FromWorker =
  | { readonly type: "assigned"; readonly partitions: readonly number[] }
  | {
      readonly type: "progress";
      readonly processed: number;
      readonly outputs: number;
      /** Wall clock (ms since the epoch, sub-ms) of the last input. */
      readonly lastAt: number;
      readonly rss: number;
      /** V8 heap in use (bytes). */
      readonly heapUsed: number;
      /** Heap in use right after the latest forced full GC (bytes; 0 without `gcEveryMs`). */
      readonly liveHeap: number;
      /** The source's unsettled inputs (held by open windows); ≤ `maxInFlight`. */
      readonly inFlight: number;
      readonly cpuSeconds: number;
    }
  | { readonly type: "error"; readonly message: string };

function send(m: FromWorker): void {
  process.send?.(m);
}

/**
 * Busy-waits `micros` µs: deterministic per-input work whatever the machine's speed (a
 * process descheduled mid-spin loses that time too, so the cap holds under load as well).
 */
function spin(micros: number): void {
  const end = performance.now() + micros / 1000;
  while (performance.now() < end) {
    // the heavier job's CPU time
  }
}

function main(config: WorkerConfig): void {
  const cost = config.costMicros ?? 0;
  const codec = nexmarkCodec();
  const source = kafkaSource<NexmarkEvent>({
    brokers: config.brokers,
    group: config.group,
    topics: [config.topic],
    decode: (bytes) => codec.decode(bytes),
    onDecodeError: "fail",
    maxInFlight: config.maxInFlight,
    // at stop, open windows still hold inputs: do not wait long for them
    drainTimeoutMs: 200,
  });
  source.pause();
  let processed = 0;
  let outputs = 0;
  let lastAt = 0;
  const owned = new Set<number>();
  const assignments = source.assignments().subscribe((e) => {
    for (const tp of e.partitions)
      if (e.type === "assigned") owned.add(tp.partition);
      else owned.delete(tp.partition);
    send({ type: "assigned", partitions: [...owned].sort() });
  });
  let liveHeap = 0;
  const gc = (globalThis as { gc?: () => void }).gc;
  const collector =
    config.gcEveryMs !== undefined && gc !== undefined
      ? setInterval(() => {
          gc();
          liveHeap = process.memoryUsage().heapUsed;
        }, config.gcEveryMs)
      : undefined;
  const cpu0 = process.cpuUsage();
  const report = (): void => {
    const c = process.cpuUsage(cpu0);
    const mem = process.memoryUsage();
    send({
      type: "progress",
      processed,
      outputs,
      lastAt,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      liveHeap,
      inFlight: source.inFlight,
      cpuSeconds: (c.user + c.system) / 1e6,
    });
  };
  let reportedAt = 0;
  const timer = setInterval(() => {
    reportedAt = performance.timeOrigin + performance.now();
    report();
  }, 200);
  const sub = source
    .records()
    .pipe(
      config.ratePerSec === undefined
        ? identity
        : rateLimit<NexmarkEvent>({
            bucket: new TokenBucket({
              ratePerSec: config.ratePerSec,
              burst: Math.max(1, Math.round(config.ratePerSec / 10)),
            }),
            // never reached: what it holds is in flight, which the source caps
            maxQueued: config.maxInFlight + 1,
          }),
      map(unkeyed),
      tap(() => {
        if (cost > 0) spin(cost);
        processed += 1;
        lastAt = performance.timeOrigin + performance.now();
        // a fetched batch is processed in one go (seconds with a heavy costMicros), during
        // which the interval cannot fire: report from here too, so samples stay current
        if (lastAt - reportedAt >= 200) {
          reportedAt = lastAt;
          report();
        }
      }),
      windowedCount(),
      tap((e) => {
        if (isRecord(e)) {
          outputs += 1;
          e.ack.ack();
        }
      }),
    )
    .subscribe({
      error: (e: unknown) => {
        send({ type: "error", message: String(e) });
        process.exit(1);
      },
    });
  process.on("message", (m: ToWorker) => {
    if (m.type === "go") source.resume();
    else if (m.type === "stop") {
      report();
      clearInterval(timer);
      clearInterval(collector);
      sub.unsubscribe();
      assignments.unsubscribe();
      void source.close().finally(() => process.exit(0));
    }
  });
  process.on("disconnect", () => process.exit(0));
}

const arg = process.argv[process.argv.length - 1] ?? "";
if (arg.startsWith("{")) {
  try {
    main(JSON.parse(arg) as WorkerConfig);
  } catch (e) {
    send({ type: "error", message: String(e) });
    process.exit(1);
  }
}

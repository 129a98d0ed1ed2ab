import { EventEmitter } from "node:events";
import { filter, lastValueFrom, of, tap } from "rxjs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { Counter } from "prom-client";
import { keyedProcess } from "../operators/keyed-process.js";
import { memoryStateBackend } from "../operators/memory-state-backend.js";
import { MemoryLog } from "../connectors/memory/log.js";
import { memorySource } from "../connectors/memory/source.js";
import { memorySink } from "../connectors/memory/sink.js";
import { KafkaSinkMetrics } from "../connectors/kafka/metrics.js";
import { DedupeCounters } from "../operators/dedupe.js";
import type { AssignmentEvent } from "../connectors/types.js";
import { defineJob } from "./job.js";
import { runJob } from "./lifecycle.js";
import { memoryCheckpointStore } from "./memory-checkpoint-store.js";
import { COUNT, waitUntil } from "./testing/count-job.js";

class Lines {
  readonly lines: Record<string, unknown>[] = [];
  write(line: string): void {
    this.lines.push(JSON.parse(line) as Record<string, unknown>);
  }
}

function countJob(log: MemoryLog, onRun?: () => void) {
  return defineJob({
    name: "test-count",
    config: z.object({ topic: z.string().default("events") }),
    async run(ctx) {
      onRun?.();
      const state = memoryStateBackend();
      const source = ctx.addSource(
        memorySource<number>(log, { group: "g", topics: [ctx.config.topic] }),
        { state },
      );
      const counted = new Counter({
        name: "test_counted_total",
        help: "Records counted.",
        registers: [ctx.metrics],
      });
      const done = lastValueFrom(
        source.records().pipe(
          keyedProcess<number, never>({
            backend: state,
            process: (_r, k) => {
              const c = k.state(COUNT);
              c.update((c.value() ?? 0) + 1);
              counted.inc();
            },
          }),
        ),
        { defaultValue: undefined },
      );
      ctx.ready();
      await done;
    },
  });
}

const env = { SLUICE_CHECKPOINT_INTERVAL_MS: "0" };
const emitters: EventEmitter[] = [];
function signals(): EventEmitter {
  const e = new EventEmitter();
  emitters.push(e);
  return e;
}
afterEach(() => {
  for (const e of emitters.splice(0)) e.removeAllListeners();
});

/** Runs `job` on an ephemeral port with its own signal emitter, logging to `logs`. */
function serve(
  job: Parameters<typeof runJob>[0],
  logs: Lines = new Lines(),
): ReturnType<typeof runJob> {
  return runJob(job, {
    env,
    port: 0,
    signals: signals(),
    logDestination: logs,
  });
}

/** Resolves when the job is told to stop: the body of a job that only waits. */
const untilAborted = (signal: AbortSignal): Promise<void> =>
  new Promise<void>((resolve) =>
    signal.addEventListener("abort", () => resolve()),
  );

function events(n: number): MemoryLog {
  const log = new MemoryLog();
  log.createTopic("events", { partitions: 2 });
  for (let i = 0; i < n; i++)
    log.append("events", { key: `k${i % 5}`, value: i });
  return log;
}

describe("runJob", () => {
  it("serves readiness, health and metrics, and on SIGTERM drains, checkpoints and exits 0", async () => {
    const log = events(100);
    const store = memoryCheckpointStore();
    const out = new Lines();
    const sig = signals();
    const run = await runJob(countJob(log), {
      env,
      port: 0,
      signals: sig,
      checkpointStore: store,
      logDestination: out,
      exit: () => {
        throw new Error("must not exit hard");
      },
    });
    const base = `http://127.0.0.1:${run.port}`;
    await waitUntil(() => run.readiness().ready, 5_000, "readiness");
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok" });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /process_cpu_user_seconds_total\{job="test-count"\}/,
    );
    expect(metrics).toMatch(/test_counted_total\{job="test-count"\}/);
    expect((await fetch(`${base}/nope`)).status).toBe(404);

    sig.emit("SIGTERM");
    expect(await run.exited).toBe(0);
    for (const p of [0, 1]) {
      const c = await store.loadCheckpoint("test-count", "events", p);
      expect(c?.offsets.committed).toBe(log.endOffset("events", p));
    }
    await expect(fetch(`${base}/readyz`)).rejects.toThrow();
    expect(out.lines.every((l) => l["job"] === "test-count")).toBe(true);
    expect(out.lines.map((l) => l["msg"])).toEqual(
      expect.arrayContaining(["starting", "ready", "shutting down", "stopped"]),
    );
  });

  it("exports the sinks it is handed and the counters a job tracks on /metrics", async () => {
    const sinkMetrics = new KafkaSinkMetrics();
    sinkMetrics.recordsOut = 7;
    const dedupe = new DedupeCounters();
    dedupe.hits = 3;
    const job = defineJob({
      name: "exporting",
      config: z.object({}),
      async run(ctx) {
        const sink = memorySink<number>(new MemoryLog(), { topic: "out" });
        ctx.addSink(Object.assign(sink, { metrics: sinkMetrics }));
        ctx.trackCounters({ dedupe: [{ name: "ids", counters: dedupe }] });
        ctx.ready();
        await untilAborted(ctx.signal);
      },
    });
    const run = await serve(job);
    const metrics = await (
      await fetch(`http://127.0.0.1:${run.port}/metrics`)
    ).text();
    expect(metrics).toMatch(
      /sluice_records_out_total\{connector="kafka",name="[^"]+",job="exporting"\} 7/,
    );
    expect(metrics).toMatch(
      /sluice_dedupe_total\{name="ids",outcome="hit",job="exporting"\} 3/,
    );
    expect(await run.shutdown()).toBe(0);
  });

  it("accepts a source whose assignments() emits synchronously (the schedule source's)", async () => {
    const log = events(3);
    const job = defineJob({
      name: "sync-assignments",
      config: z.object({}),
      async run(ctx) {
        const inner = memorySource<number>(log, {
          group: "g",
          topics: ["events"],
        });
        const assigned: AssignmentEvent = {
          type: "assigned",
          partitions: [{ topic: "events", partition: 0 }],
        };
        const source = new Proxy(inner, {
          get(target, key, receiver) {
            if (key === "assignments") return () => of(assigned);
            const value: unknown = Reflect.get(target, key, receiver);
            return typeof value === "function"
              ? (value.bind(target) as unknown)
              : value;
          },
        });
        ctx.addSource(source);
        ctx.ready();
        await untilAborted(ctx.signal);
      },
    });
    const run = await serve(job);
    const r = await fetch(`http://127.0.0.1:${run.port}/readyz`);
    expect(r.status).toBe(200);
    expect(await run.shutdown()).toBe(0);
  });

  it("stops a job told to stop while it was still setting up: the source and sink it adds afterwards are closed", async () => {
    // A SIGTERM (or a test's shutdown) right after start, before run() reached addSource: the
    // source used to stay open, so run() never returned and shutdown timed out with exit 1.
    const log = events(3);
    const out = new MemoryLog();
    out.createTopic("out", { partitions: 1 });
    let setUp: () => void = () => undefined;
    const settingUp = new Promise<void>((resolve) => (setUp = resolve));
    let lateSink: ReturnType<typeof memorySink<number>> | undefined;
    const job = defineJob({
      name: "late-source",
      config: z.object({}),
      async run(ctx) {
        await settingUp; // migrations, topic creation…
        const source = ctx.addSource(
          memorySource<number>(log, { group: "g", topics: ["events"] }),
        );
        lateSink = ctx.addSink(memorySink<number>(out, { topic: "out" }));
        ctx.ready();
        await lastValueFrom(source.records(), { defaultValue: undefined });
      },
    });
    const logs = new Lines();
    const run = await serve(job, logs);
    const stopped = run.shutdown("stop during set-up");
    setUp();
    expect(await stopped).toBe(0);
    expect(logs.lines.map((l) => l["msg"])).toContain(
      "source added during shutdown: closing it",
    );
    expect(logs.lines.filter((l) => l["level"] === "error")).toEqual([]);
    await expect(lateSink?.write([{ key: "k", value: 1 }])).rejects.toThrow(
      /closed/,
    );
  });

  it("answers 503 with a reason until the job is ready", async () => {
    const log = new MemoryLog();
    log.createTopic("events", { partitions: 1 });
    const job = defineJob({
      name: "never-ready",
      config: z.object({}),
      async run(ctx) {
        await untilAborted(ctx.signal);
      },
    });
    const run = await serve(job);
    const r = await fetch(`http://127.0.0.1:${run.port}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({
      ready: false,
      reason: "the job has not called ready() yet",
    });
    expect(await run.shutdown()).toBe(0);
  });

  it("exits at once with 130 on a second signal", async () => {
    const sig = signals();
    const exits: number[] = [];
    const job = defineJob({
      name: "stuck",
      config: z.object({}),
      run: () => new Promise<void>(() => undefined),
    });
    const run = await runJob(job, {
      env: { ...env, SLUICE_SHUTDOWN_TIMEOUT_MS: "300" },
      port: 0,
      signals: sig,
      logDestination: new Lines(),
      exit: (code) => exits.push(code),
    });
    sig.emit("SIGINT");
    sig.emit("SIGINT");
    expect(exits).toEqual([130]);
    expect(await run.exited).toBe(1); // run() never returned within the timeout
  });

  it("logs a failing run() as JSON with the job name and exits 1", async () => {
    const out = new Lines();
    const job = defineJob({
      name: "broken",
      config: z.object({}),
      run: () => Promise.reject(new Error("boom")),
    });
    const run = await serve(job, out);
    expect(await run.exited).toBe(1);
    const failure = out.lines.find((l) => l["msg"] === "job failed");
    expect(failure).toMatchObject({ level: "fatal", job: "broken" });
    expect(JSON.stringify(failure)).toContain("boom");
  });

  it("says loudly when run() returns with records that nothing will settle (a plain filter dropped them)", async () => {
    vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    const out = new Lines();
    const log = events(10);
    const job = defineJob({
      name: "drops-without-ack",
      config: z.object({}),
      async run(ctx) {
        const source = ctx.addSource(
          memorySource<number>(log, {
            group: "g",
            topics: ["events"],
            stopAtEnd: true,
            drainTimeoutMs: 10,
          }),
        );
        ctx.ready();
        await lastValueFrom(
          source.records().pipe(
            filter((r) => r.value % 2 === 0), // the odd ones are never acked
            tap((r) => r.ack.ack()),
          ),
          { defaultValue: undefined },
        );
      },
    });
    const run = await runJob(job, {
      env: { ...env, SLUICE_SHUTDOWN_TIMEOUT_MS: "300" },
      port: 0,
      signals: signals(),
      logDestination: out,
    });
    await run.exited;
    vi.restoreAllMocks();
    const report = out.lines.find((l) =>
      String(l["msg"]).startsWith("the job's run() returned with 5 records"),
    );
    expect(report).toMatchObject({ level: "error", inFlight: 5 });
    expect(JSON.stringify(report)).toContain("use filterAck");
    expect(JSON.stringify(report)).toContain("events/0@");
  });

  it("refuses bad config with exit code 2, naming field and source", async () => {
    const out = new Lines();
    let ran = false;
    const run = await runJob(
      countJob(new MemoryLog(), () => (ran = true)),
      {
        env: { SLUICE_JOB__TOPIC: "42", KAFKA_BROKERS: " , " },
        port: 0,
        signals: signals(),
        logDestination: out,
      },
    );
    expect(await run.exited).toBe(2);
    expect(ran).toBe(false);
    expect(out.lines.map((l) => l["problem"])).toContain(
      "env SLUICE_JOB__TOPIC: job.topic: Invalid input: expected string, received number",
    );
  });
});

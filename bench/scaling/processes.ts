import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FromWorker, ToWorker, WorkerConfig } from "./worker.js";

/** How to start `worker.js` (built) or `worker.ts` (source, through vite-node, as in tests). */
function workerLaunch(config: WorkerConfig): {
  module: string;
  args: string[];
} {
  const here = fileURLToPath(import.meta.url);
  const json = JSON.stringify(config);
  if (here.endsWith(".js"))
    return { module: join(dirname(here), "worker.js"), args: [json] };
  let dir = dirname(here);
  for (let i = 0; i < 6; i++) {
    const cli = join(dir, "node_modules", "vite-node", "dist", "cli.mjs");
    if (existsSync(cli))
      return { module: cli, args: [join(dirname(here), "worker.ts"), json] };
    dir = dirname(dir);
  }
  throw new Error(
    `cannot run ${join(dirname(here), "worker.ts")}: vite-node is not installed; run the built bench (npm run build)`,
  );
}

interface Member {
  readonly child: ChildProcess;
  partitions: readonly number[];
  processed: number;
  outputs: number;
  lastAt: number;
  rss: number;
  peakRss: number;
  heapUsed: number;
  liveHeap: number;
  inFlight: number;
  cpuSeconds: number;
  error: string | undefined;
  exited: boolean;
}

/**
 * A consumer group of worker processes (`worker.ts`), each running the windowed count over
 * its partitions. They join paused; `waitStable` waits for one assignment covering every
 * partition, `go` starts them, `waitProcessed` resolves when their inputs add up.
 */
export class WorkerGroup {
  private readonly members: Member[];
  private listeners: (() => void)[] = [];

  constructor(workers: number, config: WorkerConfig) {
    this.members = Array.from({ length: workers }, () => {
      const { module, args } = workerLaunch(config);
      const child = fork(module, args, {
        stdio: ["ignore", "ignore", "pipe", "ipc"],
        ...(config.gcEveryMs !== undefined
          ? { execArgv: [...process.execArgv, "--expose-gc"] }
          : {}),
      });
      const m: Member = {
        child,
        partitions: [],
        processed: 0,
        outputs: 0,
        lastAt: 0,
        rss: 0,
        peakRss: 0,
        heapUsed: 0,
        liveHeap: 0,
        inFlight: 0,
        cpuSeconds: 0,
        error: undefined,
        exited: false,
      };
      let stderr = "";
      child.stderr?.on("data", (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-2_000);
      });
      child.on("message", (msg: FromWorker) => {
        if (msg.type === "assigned") m.partitions = msg.partitions;
        else if (msg.type === "progress") {
          m.processed = msg.processed;
          m.outputs = msg.outputs;
          m.lastAt = msg.lastAt;
          m.rss = msg.rss;
          m.peakRss = Math.max(m.peakRss, msg.rss);
          m.heapUsed = msg.heapUsed;
          m.liveHeap = msg.liveHeap;
          m.inFlight = msg.inFlight;
          m.cpuSeconds = msg.cpuSeconds;
        } else m.error = msg.message;
        this.notify();
      });
      child.on("exit", (code) => {
        m.exited = true;
        if (code !== 0 && m.error === undefined)
          m.error = `worker exited with code ${String(code)}: ${stderr}`;
        this.notify();
      });
      return m;
    });
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  /** Resolves when `done()` holds, checked on every message; rejects on a worker error or timeout. */
  private until(
    what: string,
    done: () => boolean,
    timeoutMs: number,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const failed = this.members.find((m) => m.error !== undefined);
        if (failed !== undefined) {
          finish();
          reject(new Error(`scaling worker: ${failed.error!}`));
        } else if (done()) {
          finish();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `scaling: ${what} not reached in ${timeoutMs} ms (${this.describe()})`,
          ),
        );
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
      };
      this.listeners.push(check);
      check();
    });
  }

  describe(): string {
    return this.members
      .map(
        (m, i) =>
          `worker ${i}: partitions [${m.partitions.join(",")}], ${m.processed} processed`,
      )
      .join("; ");
  }

  /**
   * Waits until the workers own `partitions` partitions between them, each at least one
   * (when there are enough), unchanged for `quietMs`: one stable group generation.
   */
  async waitStable(
    partitions: number,
    timeoutMs = 60_000,
    quietMs = 1_500,
  ): Promise<void> {
    const key = (): string =>
      this.members.map((m) => m.partitions.join(",")).join("|");
    const covered = (): boolean =>
      this.members.reduce((n, m) => n + m.partitions.length, 0) ===
        partitions &&
      this.members.every(
        (m) => m.partitions.length > 0 || this.members.length > partitions,
      );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.until("a full assignment", covered, deadline - Date.now());
      const seen = key();
      await new Promise((r) => setTimeout(r, quietMs));
      if (key() === seen && covered()) return;
    }
  }

  /** Sends `go` to every worker; returns the wall clock it did (ms since the epoch). */
  go(): number {
    const at = performance.timeOrigin + performance.now();
    for (const m of this.members)
      m.child.send({ type: "go" } satisfies ToWorker);
    return at;
  }

  /** Wall clock of the newest input any worker processed (ms since the epoch). */
  get lastAt(): number {
    return Math.max(...this.members.map((m) => m.lastAt));
  }

  get processed(): number {
    return this.members.reduce((n, m) => n + m.processed, 0);
  }

  /** Peak RSS (MiB) of each worker so far. */
  get peakRssMb(): number[] {
    return this.members.map((m) => Math.round(m.peakRss / 2 ** 20));
  }

  /** Current RSS (MiB) of each worker. */
  get rssMb(): number[] {
    return this.members.map((m) => Math.round(m.rss / 2 ** 20));
  }

  /** Current V8 heap in use (MiB) of each worker. */
  get heapMb(): number[] {
    return this.members.map((m) => Math.round(m.heapUsed / 2 ** 20));
  }

  /** Heap (MiB) each worker retained after its latest forced GC (0 without `gcEveryMs`). */
  get liveHeapMb(): number[] {
    return this.members.map((m) => Math.round(m.liveHeap / 2 ** 20));
  }

  /** Current unsettled inputs of each worker's source. */
  get inFlight(): number[] {
    return this.members.map((m) => m.inFlight);
  }

  get cpuSeconds(): number {
    return this.members.reduce((n, m) => n + m.cpuSeconds, 0);
  }

  waitProcessed(total: number, timeoutMs = 600_000): Promise<void> {
    return this.until(
      `${total} inputs processed`,
      () => this.processed >= total,
      timeoutMs,
    );
  }

  /** Asks every worker to close and waits for them to exit (killed after 10 s). */
  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(
        (m) =>
          new Promise<void>((resolve) => {
            if (m.exited) return resolve();
            const timer = setTimeout(() => m.child.kill("SIGKILL"), 10_000);
            m.child.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
            if (m.child.connected)
              m.child.send({ type: "stop" } satisfies ToWorker);
            else m.child.kill("SIGTERM");
          }),
      ),
    );
  }
}

// A job's `sluice run <job>` processes, as a Deployment runs them: a process that exits is
// started again (with Kubernetes' doubling back-off, capped), every crash recorded with the
// tail of its log. Faults are signals to these real processes.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A process exit the suite did not ask for. */
export interface Crash {
  readonly job: string;
  readonly instance: number;
  readonly at: number;
  readonly exit: string;
  readonly logTail: string;
}

interface Instance {
  readonly id: number;
  child: ChildProcess | undefined;
  exited: Promise<void> | undefined;
  /** False once the suite scaled it away or SIGKILLed it on purpose. */
  wanted: boolean;
  /** Exits the suite asked for (SIGKILL, SIGTERM on scale-down) are not crashes. */
  expectExit: boolean;
  restarts: number;
  stopped: boolean;
  readonly log: string;
}

/** Reads VmRSS of a pid in bytes (0 when gone). */
export function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(
      readFileSync(`/proc/${pid}/status`, "utf8"),
    );
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

/** The last `n` lines of a file. */
export function tailOf(path: string, n: number): string {
  try {
    return readFileSync(path, "utf8")
      .trimEnd()
      .split("\n")
      .slice(-n)
      .join("\n");
  } catch {
    return "";
  }
}

export class Fleet {
  readonly crashes: Crash[] = [];
  maxRssBytes = 0;
  private readonly instances: Instance[] = [];
  private nextId = 0;
  private closed = false;
  private readonly sampler: NodeJS.Timeout;

  constructor(
    readonly job: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly repoRoot: string,
    private readonly logDir: string,
    private readonly httpPortBase: number,
    private readonly progress: (line: string) => void,
  ) {
    this.sampler = setInterval(() => {
      for (const i of this.instances)
        if (i.child?.pid !== undefined && i.child.exitCode === null)
          this.maxRssBytes = Math.max(this.maxRssBytes, rssOf(i.child.pid));
    }, 1000);
    this.sampler.unref();
  }

  /** Instances that are meant to run. */
  get running(): number {
    return this.instances.filter((i) => i.wanted).length;
  }

  private spawnInstance(i: Instance): void {
    const fd = openSync(i.log, "a");
    try {
      const child = spawn(
        process.execPath,
        ["bin/sluice.mjs", "run", this.job],
        {
          cwd: this.repoRoot,
          env: {
            ...this.env,
            SLUICE_HTTP_PORT: String(this.httpPortBase + i.id),
            SLUICE_HTTP_HOST: "127.0.0.1",
          },
          stdio: ["ignore", fd, fd],
        },
      );
      i.child = child;
      i.stopped = false;
      i.expectExit = false;
      i.exited = new Promise<void>((resolve) => {
        child.once("exit", (code, signal) => {
          resolve();
          this.onExit(i, code, signal);
        });
      });
    } finally {
      closeSync(fd);
    }
  }

  private onExit(
    i: Instance,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (this.closed || !i.wanted) return;
    if (!i.expectExit) {
      const crash: Crash = {
        job: this.job,
        instance: i.id,
        at: Date.now(),
        exit: signal !== null ? signal : `exit ${String(code)}`,
        logTail: tailOf(i.log, 12),
      };
      this.crashes.push(crash);
      this.progress(
        `${this.job}#${i.id} exited unasked (${crash.exit}); restarting it as a Deployment would`,
      );
    }
    // Kubernetes restarts a crashed container after 10 s, 20 s, 40 s ... (capped at 5 min);
    // shorter here (1 s doubling, capped at 16 s) so a run's minutes go to faults.
    const backoff = Math.min(16_000, 1000 * 2 ** Math.min(i.restarts, 4));
    i.restarts++;
    setTimeout(
      () => {
        if (!this.closed && i.wanted) this.spawnInstance(i);
      },
      i.expectExit ? 0 : backoff,
    ).unref();
  }

  /** Starts or stops (SIGTERM, newest first) instances until `n` run. */
  async scaleTo(n: number): Promise<void> {
    while (this.running < n) {
      const i: Instance = {
        id: this.nextId++,
        child: undefined,
        exited: undefined,
        wanted: true,
        expectExit: false,
        restarts: 0,
        stopped: false,
        log: join(this.logDir, `${this.job}-${this.nextId - 1}.log`),
      };
      this.instances.push(i);
      this.spawnInstance(i);
    }
    const extra = this.instances.filter((i) => i.wanted).slice(n);
    await Promise.all(extra.map((i) => this.terminate(i)));
  }

  private async terminate(i: Instance): Promise<void> {
    i.wanted = false;
    i.expectExit = true;
    const child = i.child;
    if (
      child === undefined ||
      child.exitCode !== null ||
      child.signalCode !== null
    )
      return;
    if (i.stopped) child.kill("SIGCONT");
    child.kill("SIGTERM");
    // The deployed terminationGracePeriodSeconds is 60: then the kubelet SIGKILLs.
    const done = await Promise.race([
      i.exited!.then(() => true),
      sleep(60_000).then(() => false),
    ]);
    if (!done) {
      this.crashes.push({
        job: this.job,
        instance: i.id,
        at: Date.now(),
        exit: "did not exit within 60 s of SIGTERM (SIGKILLed, as the kubelet would)",
        logTail: tailOf(i.log, 12),
      });
      child.kill("SIGKILL");
      await i.exited;
    }
  }

  private pick(target: number): Instance {
    const live = this.instances.filter((i) => i.wanted);
    const i = live[target % live.length];
    if (i === undefined) throw new Error(`${this.job}: no running instance`);
    return i;
  }

  /** SIGKILLs one instance and starts it again after `downMs`. Returns its id. */
  async sigkill(target: number, downMs: number): Promise<number> {
    const i = this.pick(target);
    i.expectExit = true;
    i.wanted = false; // not restarted by onExit: we restart it ourselves after downMs
    i.child?.kill("SIGKILL");
    await i.exited;
    await sleep(downMs);
    i.wanted = true;
    if (!this.closed) this.spawnInstance(i);
    return i.id;
  }

  /** SIGSTOPs one instance for `pauseMs` (a zombie past its session timeout), then SIGCONT. */
  async sigstop(target: number, pauseMs: number): Promise<number> {
    const i = this.pick(target);
    i.child?.kill("SIGSTOP");
    i.stopped = true;
    await sleep(pauseMs);
    i.child?.kill("SIGCONT");
    i.stopped = false;
    return i.id;
  }

  /** Resolves when every wanted instance answers /readyz, or throws after `timeoutMs`. */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const live = this.instances.filter((i) => i.wanted);
      const states = await Promise.all(
        live.map(async (i) => {
          try {
            const r = await fetch(
              `http://127.0.0.1:${this.httpPortBase + i.id}/readyz`,
              { signal: AbortSignal.timeout(2000) },
            );
            return r.ok;
          } catch {
            return false;
          }
        }),
      );
      if (states.every(Boolean)) return;
      if (Date.now() >= deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${this.job} instances ${live
            .filter((_, k) => !states[k])
            .map((i) => `#${i.id}`)
            .join(", ")} to answer /readyz (logs in ${this.logDir})`,
        );
      await sleep(500);
    }
  }

  /** SIGTERMs every instance (waiting for each as a kubelet would) and stops restarting them. */
  async stop(): Promise<void> {
    await Promise.all(
      this.instances.filter((i) => i.wanted).map((i) => this.terminate(i)),
    );
    this.closed = true;
    clearInterval(this.sampler);
  }

  /** SIGKILLs everything still running (for cleanup after an error). */
  killAll(): void {
    this.closed = true;
    clearInterval(this.sampler);
    for (const i of this.instances)
      if (i.child !== undefined && i.child.exitCode === null) {
        i.child.kill("SIGCONT");
        i.child.kill("SIGKILL");
      }
  }
}

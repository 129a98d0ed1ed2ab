import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { PartitionLag } from "../../../connectors/kafka/index.js";

// Real `sluice run <job>` processes for the kill tests: started from the repository root,
// their output kept for failure messages, and every one still alive SIGKILLed in afterAll.

/** The repository root: where bin/sluice.mjs and stack/setup.mjs live. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** Runs `node stack/setup.mjs --quiet` (compiles dist/, which `sluice run` loads); throws with its stderr on failure. */
export function setUpStack(): void {
  const setup = spawnSync(process.execPath, ["stack/setup.mjs", "--quiet"], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  if (setup.status !== 0)
    throw new Error(`node stack/setup.mjs failed:\n${setup.stderr}`);
}

/** One started `sluice run` process. */
export interface SluiceProcess {
  readonly child: ChildProcess;
  /** Everything it has written to stdout and stderr so far. */
  output(): string;
  /** Throws with its output once it has exited, so a wait on it fails at once, not at its timeout. */
  assertRunning(): void;
  /** Sends `signal` and resolves when it has exited. */
  stop(signal: NodeJS.Signals): Promise<void>;
}

/** Starts `sluice run` processes and remembers them until they exit. */
export interface SluiceProcesses {
  /** `sluice run <job>` with the parent's environment plus `env`. */
  run(job: string, env: Readonly<Record<string, string>>): SluiceProcess;
  /** SIGKILLs every process still running (for afterAll). */
  killAll(): void;
}

export function sluiceProcesses(): SluiceProcesses {
  const children = new Set<ChildProcess>();
  return {
    run(job, env) {
      const child = spawn(process.execPath, ["bin/sluice.mjs", "run", job], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.add(child);
      child.once("exit", () => children.delete(child));
      const log: string[] = [];
      child.stdout?.on("data", (b: Buffer) => log.push(b.toString("utf8")));
      child.stderr?.on("data", (b: Buffer) => log.push(b.toString("utf8")));
      const exited = () => child.exitCode !== null || child.signalCode !== null;
      return {
        child,
        output: () => log.join(""),
        assertRunning() {
          if (exited()) throw new Error(`exited early:\n${log.join("")}`);
        },
        async stop(signal) {
          if (exited()) return;
          const exit = once(child, "exit");
          child.kill(signal);
          await exit;
        },
      };
    },
    killAll() {
      for (const c of children) c.kill("SIGKILL");
    },
  };
}

/** True when the group has committed every partition up to its end. */
export const committedToEnd = (lag: readonly PartitionLag[]): boolean =>
  lag.every((p) => p.committed !== undefined && p.lag === 0);

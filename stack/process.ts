import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** What we record about a process we started, so `down` never kills a stranger. */
export interface PidRecord {
  readonly pid: number;
  /** A string that must appear in `/proc/<pid>/cmdline` for the pid to still be ours. */
  readonly marker: string;
}

/** Result of running a command to completion. */
export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion and collects its output (never throws on a non-zero exit). */
export function run(
  command: string,
  args: readonly string[],
  options: {
    readonly cwd?: string;
    readonly env?: NodeJS.ProcessEnv;
    readonly input?: string;
  } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => {
      resolvePromise({ code: -1, stdout: "", stderr: e.message });
    });
    child.on("close", (code) => {
      resolvePromise({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    child.stdin.on("error", () => undefined); // the command may exit before reading it
    child.stdin.end(options.input ?? "");
  });
}

/**
 * Starts a long-running process detached from ours (its own process group), stdout and stderr
 * appended to `log`, and records its pid. Returns the pid.
 */
export async function spawnDaemon(
  command: string,
  args: readonly string[],
  options: {
    readonly log: string;
    readonly pidFile: string;
    readonly marker: string;
    readonly cwd?: string;
  },
): Promise<number> {
  await mkdir(dirname(options.log), { recursive: true });
  await mkdir(dirname(options.pidFile), { recursive: true });
  const fd = openSync(options.log, "a");
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    const pid = await new Promise<number>((resolvePid, reject) => {
      child.once("error", reject);
      child.once("spawn", () => {
        if (child.pid === undefined) reject(new Error(`${command}: no pid`));
        else resolvePid(child.pid);
      });
    });
    child.unref();
    const record: PidRecord = { pid, marker: options.marker };
    await writeFile(options.pidFile, JSON.stringify(record) + "\n");
    return pid;
  } finally {
    closeSync(fd);
  }
}

/** Reads a pid record; undefined when missing or unreadable. */
export async function readPid(pidFile: string): Promise<PidRecord | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(pidFile, "utf8"));
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      "pid" in parsed &&
      "marker" in parsed &&
      typeof parsed.pid === "number" &&
      typeof parsed.marker === "string"
    ) {
      return { pid: parsed.pid, marker: parsed.marker };
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** True when the process exists, is not a zombie, and its command line holds the marker. */
export function isOurs(record: PidRecord): boolean {
  try {
    const stat = readFileSync(`/proc/${record.pid}/stat`, "utf8");
    // Field 3, after the parenthesised command name, is the state; Z = zombie, X = dead.
    const state = stat.slice(
      stat.lastIndexOf(")") + 2,
      stat.lastIndexOf(")") + 3,
    );
    if (state === "Z" || state === "X") return false;
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, "utf8");
    return cmdline.split("\0").join(" ").includes(record.marker);
  } catch {
    return false;
  }
}

/** The live pid recorded in `pidFile`, or undefined (stale records are removed). */
export async function livePid(pidFile: string): Promise<number | undefined> {
  const record = await readPid(pidFile);
  if (record === undefined) return undefined;
  if (isOurs(record)) return record.pid;
  await rm(pidFile, { force: true });
  return undefined;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig); // the whole process group we created with detached: true
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/**
 * Stops the process recorded in `pidFile`: SIGTERM, wait up to `graceMs`, then SIGKILL.
 * Does nothing when the record is missing or the pid is no longer ours. Returns the pid stopped.
 */
export async function stopDaemon(
  pidFile: string,
  graceMs: number,
): Promise<number | undefined> {
  const record = await readPid(pidFile);
  if (record === undefined) return undefined;
  if (!isOurs(record)) {
    await rm(pidFile, { force: true });
    return undefined;
  }
  signal(record.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isOurs(record)) await sleep(200);
  if (isOurs(record)) {
    signal(record.pid, "SIGKILL");
    const killDeadline = Date.now() + 10_000;
    while (Date.now() < killDeadline && isOurs(record)) await sleep(100);
  }
  await rm(pidFile, { force: true });
  return record.pid;
}

/** The last `lines` lines of a file ("" when it cannot be read). */
export async function tail(path: string, lines = 20): Promise<string> {
  try {
    const text = await readFile(path, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Path of an executable on PATH, or undefined. */
export async function which(command: string): Promise<string | undefined> {
  const r = await run("sh", ["-c", `command -v ${command}`]);
  const path = r.stdout.trim();
  return r.code === 0 && path !== "" ? path : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Runs `work` while holding an exclusive lock file (two `stack up` at once would otherwise both
 * start a broker). A lock left by a dead process is taken over.
 */
export async function withLock<T>(
  lockFile: string,
  timeoutMs: number,
  work: () => Promise<T>,
): Promise<T> {
  await mkdir(dirname(lockFile), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const holder = Number(await readFile(lockFile, "utf8").catch(() => ""));
      if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
        await rm(lockFile, { force: true });
        continue;
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `another stack command (pid ${holder}) holds ${lockFile}`,
          { cause: e },
        );
      }
      await sleep(250);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockFile, { force: true });
  }
}

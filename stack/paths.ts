import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ServiceName } from "./types.js";

/** Downloads and resolved classpaths; outside the repository. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const v = env["SLUICE_CACHE_DIR"];
  return resolve(
    v !== undefined && v !== "" ? v : join(homedir(), ".cache", "sluice"),
  );
}

/** Pids, data directories and logs of the services we start. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const v = env["SLUICE_STATE_DIR"];
  return resolve(
    v !== undefined && v !== ""
      ? v
      : join(homedir(), ".local", "state", "sluice"),
  );
}

/** `<state>/logs/<service>.log`. */
export function logPath(service: ServiceName): string {
  return join(stateDir(), "logs", `${service}.log`);
}

/** `<state>/<service>.pid`: JSON `{ pid, marker }` of a process we started. */
export function pidPath(service: ServiceName): string {
  return join(stateDir(), `${service}.pid`);
}

/** `<state>/<service>/`: data and rendered configuration of one service. */
export function serviceDir(service: ServiceName): string {
  return join(stateDir(), service);
}

/**
 * The folder holding `kafka/` and `cassandra/` (poms and config templates). The code runs
 * either from `stack/*.ts` (vitest) or from `dist/stack/*.js` (built), so look in both places.
 */
export function assetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [here, resolve(here, "..", "..", "stack")];
  for (const c of candidates) {
    if (existsSync(join(c, "kafka", "pom.xml"))) return c;
  }
  throw new Error(
    `stack assets (kafka/pom.xml) not found in ${candidates.join(" or ")}`,
  );
}

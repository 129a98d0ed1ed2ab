import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Endpoints, EventSink, ServiceName } from "../types.js";

/** How `stack/` starts and stops one kind of service on loopback. */
export interface ServiceDriver {
  readonly name: ServiceName;
  /** True when the configured address is the loopback default this driver can start. */
  canStart(e: Endpoints): boolean;
  /**
   * Starts the service (installing and resolving what it needs). Returns once the process is
   * launched; readiness is awaited by the caller. Resolves to `reuse` when preparing revealed
   * that a service is already answering (for example a package's own init script started it).
   */
  start(e: Endpoints, emit: EventSink): Promise<"started" | "reuse">;
  /** Stops the process we started, if any; resolves to its pid. */
  stop(emit: EventSink): Promise<number | undefined>;
  /** Extra log worth showing on failure (e.g. PostgreSQL's own cluster log). */
  extraLog?(): string | undefined;
}

/** `host:port` → parts, when it is a loopback address with exactly `port`. */
export function isLoopback(address: string, port: number): boolean {
  const m = /^(?:\[(.+)\]|([^:]+)):(\d+)$/.exec(address.trim());
  if (m === null) return false;
  const host = m[1] ?? m[2] ?? "";
  return (
    ["127.0.0.1", "localhost", "::1"].includes(host) && Number(m[3]) === port
  );
}

/** Renders a template file: every `{{NAME}}` replaced by `vars.NAME`. */
export async function renderTemplate(
  from: string,
  to: string,
  vars: Readonly<Record<string, string>>,
): Promise<void> {
  let text = await readFile(from, "utf8");
  for (const [k, v] of Object.entries(vars)) {
    text = text.split(`{{${k}}}`).join(v);
  }
  await mkdir(dirname(to), { recursive: true });
  await writeFile(to, text);
}

import type { ServiceName } from "./types.js";

/**
 * A service could not be provided: names the service, the reason and the log to read.
 *
 * @example
 * try { await stackUp(); } catch (e) { if (e instanceof StackError) console.error(e.service, e.logPath); }
 */
export class StackError extends Error {
  readonly service: ServiceName;
  readonly logPath: string | undefined;

  constructor(
    service: ServiceName,
    reason: string,
    logPath?: string,
    logTail?: string,
    options?: { readonly cause?: unknown },
  ) {
    const where = logPath === undefined ? "" : `\n  log: ${logPath}`;
    const tail =
      logTail === undefined || logTail.trim() === ""
        ? ""
        : `\n  last lines of the log:\n${logTail
            .split("\n")
            .map((l) => `    ${l}`)
            .join("\n")}`;
    super(
      `${service}: ${reason}${where}${tail}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "StackError";
    this.service = service;
    this.logPath = logPath;
  }
}

/** The message of an unknown thrown value. */
export function messageOf(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) {
    return e.errors.map(messageOf).join("; ");
  }
  if (e instanceof Error) return e.message === "" ? e.name : e.message;
  return String(e);
}

import type { ServiceName } from "./types.js";

/**
 * `message`, then the log to read and its last lines (indented), where given: the shape of
 * every stack error that points at a log.
 *
 * @example
 * withLog("kafka: not ready", "/state/kafka.log", "boom"); // "kafka: not ready\n  log: /state/kafka.log\n  last lines of the log:\n    boom"
 */
export function withLog(
  message: string,
  logPath?: string,
  logTail?: string,
): string {
  const where = logPath === undefined ? "" : `\n  log: ${logPath}`;
  const tail =
    logTail === undefined || logTail.trim() === ""
      ? ""
      : `\n  last lines of the log:\n${logTail
          .split("\n")
          .map((l) => `    ${l}`)
          .join("\n")}`;
  return `${message}${where}${tail}`;
}

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
    super(
      withLog(`${service}: ${reason}`, logPath, logTail),
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

import { pino } from "pino";
import type { DestinationStream, Logger as PinoLogger } from "pino";

/** Log levels, lowest first (pino's). */
export const LOG_LEVELS = [
  "trace",
  "debug",
  "info",
  "warn",
  "error",
  "fatal",
  "silent",
] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Structured fields of a log line: JSON-able values. */
export type LogFields = { readonly [name: string]: unknown };

/**
 * The logger a job gets: one JSON object per line, with `msg`, `level`, `time`, the job name
 * and the given fields. Errors under the `err` field are serialised with their stack, code
 * and cause.
 *
 * @example
 * ```ts
 * ctx.logger.info("enriched a batch", { records: 500, topic: "reviews" });
 * ctx.logger.error("sink failed", { err: error });
 * ```
 */
export interface Logger {
  trace(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  fatal(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
  /** The current level. */
  readonly level: LogLevel;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Job name, on every line as `job`. */
  readonly job?: string;
  /** Lowest level written. Default `"info"`. */
  readonly level?: LogLevel;
  /** Where lines go. Default: standard output, written synchronously. */
  readonly destination?: DestinationStream;
}

/**
 * Field names whose values are never written, wherever they appear one or two levels deep
 * (pino's `redact`): a guard for secrets passed as fields by mistake.
 */
const REDACTED_FIELDS = [
  "password",
  "apiKey",
  "token",
  "secret",
  "authorization",
  "connectionString",
];

class PinoBacked implements Logger {
  constructor(private readonly inner: PinoLogger) {}
  get level(): LogLevel {
    return this.inner.level as LogLevel;
  }
  trace(msg: string, fields?: LogFields): void {
    this.inner.trace(fields ?? {}, msg);
  }
  debug(msg: string, fields?: LogFields): void {
    this.inner.debug(fields ?? {}, msg);
  }
  info(msg: string, fields?: LogFields): void {
    this.inner.info(fields ?? {}, msg);
  }
  warn(msg: string, fields?: LogFields): void {
    this.inner.warn(fields ?? {}, msg);
  }
  error(msg: string, fields?: LogFields): void {
    this.inner.error(fields ?? {}, msg);
  }
  fatal(msg: string, fields?: LogFields): void {
    this.inner.fatal(fields ?? {}, msg);
  }
  child(fields: LogFields): Logger {
    return new PinoBacked(this.inner.child(fields));
  }
}

/**
 * Creates the structured JSON logger of a job (pino underneath; no pino type leaks out).
 *
 * @example
 * ```ts
 * const logger = createLogger({ job: "enrichment", level: "debug" });
 * logger.info("started", { partitions: 3 });
 * // {"level":"info","time":"2025-01-01T00:00:00.000Z","job":"enrichment","partitions":3,"msg":"started"}
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const inner = pino(
    {
      level: options.level ?? "info",
      base: options.job === undefined ? {} : { job: options.job },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`]),
        censor: "***",
      },
      serializers: { err: pino.stdSerializers.err },
    },
    options.destination ?? pino.destination({ fd: 1, sync: true }),
  );
  return new PinoBacked(inner);
}

/**
 * A logger that writes nothing: the default of library pieces used outside a job.
 *
 * @example
 * ```ts
 * const coordinator = new CheckpointCoordinator({ ...options, logger: silentLogger });
 * ```
 */
export const silentLogger: Logger = {
  level: "silent",
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  fatal: () => undefined,
  child: () => silentLogger,
};

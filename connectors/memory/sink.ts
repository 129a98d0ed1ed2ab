import { SluiceError } from "../../operators/sluice-error.js";
import type { OutgoingRecord, Sink } from "../types.js";
import { closedError } from "./errors.js";
import type { MemoryLog } from "./log.js";
import { resolveMemorySinkOptions } from "./options.js";
import type { MemorySinkOptions } from "./options.js";

/**
 * The memory connector's sink: appends each batch to a {@link MemoryLog}, in order.
 * Build it with {@link memorySink}.
 */
export class MemorySink<T> implements Sink<T> {
  readonly name: string;
  readonly maxInFlight: number;
  private readonly topic: string | undefined;
  private closed = false;

  constructor(
    private readonly log: MemoryLog,
    options: MemorySinkOptions = {},
  ) {
    const o = resolveMemorySinkOptions(options);
    this.name = o.name;
    this.maxInFlight = o.maxInFlight;
    this.topic = o.topic;
  }

  connect(): Promise<void> {
    return this.closed
      ? Promise.reject(closedError(this.name))
      : Promise.resolve();
  }

  /**
   * Appends the batch. Every record's topic is checked first, so a bad record fails the
   * whole batch before anything is written.
   */
  write(batch: readonly OutgoingRecord<T>[]): Promise<void> {
    if (this.closed) return Promise.reject(closedError(this.name));
    try {
      const topics = batch.map((r) => {
        const topic = r.topic ?? this.topic;
        if (topic === undefined) {
          throw new SluiceError(
            "CONFIG",
            `${this.name}: record has no topic and memory.sink.topic is not set`,
            { context: { field: "topic" } },
          );
        }
        this.log.partitionCount(topic);
        return topic;
      });
      batch.forEach((r, i) => {
        this.log.append(topics[i]!, {
          key: r.key,
          value: r.value,
          ...(r.headers !== undefined ? { headers: r.headers } : {}),
          ...(r.timestamp !== undefined ? { timestamp: r.timestamp } : {}),
          ...(r.partition !== undefined ? { partition: r.partition } : {}),
        });
      });
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(
        error instanceof Error
          ? error
          : new SluiceError("INTERNAL", String(error)),
      );
    }
  }

  /** Nothing is buffered: appends are visible when `write` resolves. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Idempotent; later writes reject with `CLOSED`. */
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/**
 * A {@link Sink} that appends to a {@link MemoryLog}. Records without a topic go to
 * `options.topic`.
 *
 * @example
 * ```ts
 * const sink = memorySink<Order>(log, { topic: "orders-billed" });
 * await sink.write([{ key: "user-1", value: order }]);
 * ```
 */
export function memorySink<T>(
  log: MemoryLog,
  options: MemorySinkOptions = {},
): MemorySink<T> {
  return new MemorySink<T>(log, options);
}

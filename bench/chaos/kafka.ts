// The suite's own Kafka client (kafkajs directly, not Sluice's connectors): it writes the
// input, reads topics back from offset 0, and reads the group's committed offsets. Every call
// retries while the private broker restarts, up to a deadline that names what it waits on.
import kafkajs from "kafkajs";
import { setTimeout as sleep } from "node:timers/promises";

export interface Message {
  readonly key: string;
  readonly value: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ReadMessage {
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

/** Retries `work` until it resolves or `timeoutMs` passes; the error names `what`. */
export async function retrying<T>(
  what: string,
  timeoutMs: number,
  work: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await work();
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms: ${what} (last error: ${String(last)})`,
      );
    await sleep(500);
  }
}

export class ChaosKafka {
  private readonly kafka: kafkajs.Kafka;
  private producer: kafkajs.Producer | undefined;
  private admin: kafkajs.Admin | undefined;

  constructor(private readonly brokers: string) {
    this.kafka = new kafkajs.Kafka({
      clientId: "sluice-chaos",
      brokers: [brokers],
      logLevel: kafkajs.logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      retry: { retries: 2, initialRetryTime: 200 },
    });
  }

  private async adminClient(): Promise<kafkajs.Admin> {
    if (this.admin === undefined) {
      const a = this.kafka.admin();
      try {
        await a.connect();
      } catch (e) {
        await a.disconnect().catch(() => undefined);
        throw e;
      }
      this.admin = a;
    }
    return this.admin;
  }

  private async resetAdmin(): Promise<void> {
    const a = this.admin;
    this.admin = undefined;
    await a?.disconnect().catch(() => undefined);
  }

  private async withAdmin<T>(
    what: string,
    timeoutMs: number,
    f: (a: kafkajs.Admin) => Promise<T>,
  ): Promise<T> {
    return retrying(what, timeoutMs, async () => {
      try {
        return await f(await this.adminClient());
      } catch (e) {
        await this.resetAdmin();
        throw e;
      }
    });
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    await this.withAdmin(`creating topic ${topic}`, 60_000, async (a) => {
      await a.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
        waitForLeaders: true,
      });
    });
  }

  /** Writes `messages` (acks from all in-sync replicas, idempotent producer: no duplicates of ours). */
  async produce(
    topic: string,
    messages: readonly Message[],
    timeoutMs = 120_000,
  ): Promise<void> {
    await retrying(
      `writing ${messages.length} records to ${topic}`,
      timeoutMs,
      async () => {
        try {
          if (this.producer === undefined) {
            const p = this.kafka.producer({
              idempotent: true,
              maxInFlightRequests: 1,
            });
            await p.connect();
            this.producer = p;
          }
          await this.producer.send({
            topic,
            acks: -1,
            messages: messages.map((m) => ({
              key: m.key,
              value: m.value,
              ...(m.headers !== undefined ? { headers: { ...m.headers } } : {}),
            })),
          });
        } catch (e) {
          const p = this.producer;
          this.producer = undefined;
          await p?.disconnect().catch(() => undefined);
          throw e;
        }
      },
    );
  }

  /** Next offset to be written, per partition. */
  async endOffsets(
    topic: string,
    timeoutMs = 60_000,
  ): Promise<Map<number, number>> {
    return this.withAdmin(
      `reading the end offsets of ${topic}`,
      timeoutMs,
      async (a) => {
        const o = await a.fetchTopicOffsets(topic);
        return new Map(o.map((p) => [p.partition, Number(p.high)]));
      },
    );
  }

  /** The group's committed offsets per partition (-1 when none). */
  async committed(
    group: string,
    topic: string,
    timeoutMs = 60_000,
  ): Promise<Map<number, number>> {
    return this.withAdmin(
      `reading group ${group}'s committed offsets on ${topic}`,
      timeoutMs,
      async (a) => {
        const r = await a.fetchOffsets({ groupId: group, topics: [topic] });
        const m = new Map<number, number>();
        for (const t of r)
          for (const p of t.partitions) m.set(p.partition, Number(p.offset));
        return m;
      },
    );
  }

  /** Reads every record of `topic` from offset 0 to the end offsets of the moment of the call. */
  async readAll(topic: string, timeoutMs = 120_000): Promise<ReadMessage[]> {
    const ends = await this.endOffsets(topic);
    const total = [...ends.values()].reduce((a, b) => a + b, 0);
    const out: ReadMessage[] = [];
    if (total === 0) return out;
    const consumer = this.kafka.consumer({
      groupId: `sluice-chaos-reader-${Date.now()}-${Math.random().toString(36).slice(2)}`,
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
    const seen = new Map<number, number>();
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const done = new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachBatchAutoResolve: true,
            eachBatch: async ({ batch }) => {
              for (const m of batch.messages) {
                const offset = Number(m.offset);
                const end = ends.get(batch.partition) ?? 0;
                if (offset >= end) continue;
                const headers: Record<string, string> = {};
                for (const [k, v] of Object.entries(m.headers ?? {}))
                  if (v !== undefined) headers[k] = String(v);
                out.push({
                  partition: batch.partition,
                  offset,
                  key: m.key?.toString("utf8") ?? "",
                  value: m.value ?? Buffer.alloc(0),
                  headers,
                });
                seen.set(batch.partition, offset + 1);
              }
              if (
                [...ends].every(([p, e]) => e === 0 || (seen.get(p) ?? 0) >= e)
              )
                resolve();
              await Promise.resolve();
            },
          })
          .catch(reject);
      });
      await Promise.race([
        done,
        sleep(timeoutMs).then(() => {
          throw new Error(
            `timed out after ${timeoutMs} ms reading ${topic} back to its end offsets (read ${out.length} of ${total})`,
          );
        }),
      ]);
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    await this.resetAdmin();
  }
}

import fc from "fast-check";
import { Subscription, queueScheduler } from "rxjs";
import { describe, expect, it } from "vitest";
import type { Record } from "../../operators/record.js";
import { SluiceError } from "../../operators/sluice-error.js";
import { MemoryLog } from "./log.js";
import { memorySource } from "./source.js";
import type { MemorySource } from "./source.js";

type Action =
  | { readonly t: "ack"; readonly pick: number }
  | { readonly t: "nack"; readonly pick: number }
  | { readonly t: "crash"; readonly pick: number }
  | { readonly t: "join" }
  | { readonly t: "commit" }
  | { readonly t: "append"; readonly key: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    arbitrary: fc.record({ t: fc.constant("ack" as const), pick: fc.nat() }),
    weight: 8,
  },
  {
    arbitrary: fc.record({ t: fc.constant("nack" as const), pick: fc.nat() }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ t: fc.constant("crash" as const), pick: fc.nat() }),
    weight: 1,
  },
  { arbitrary: fc.constant({ t: "join" as const }), weight: 1 },
  { arbitrary: fc.constant({ t: "commit" as const }), weight: 2 },
  {
    arbitrary: fc.record({
      t: fc.constant("append" as const),
      key: fc.nat({ max: 6 }),
    }),
    weight: 2,
  },
);

const tick = (): Promise<void> =>
  new Promise((resolve) => setImmediate(resolve));
const PARTITIONS = 3;

interface Member {
  readonly source: MemorySource<number>;
  readonly subscription: Subscription;
  crashed: boolean;
}

describe("memorySource under random acks, nacks, joins and crashes", () => {
  it("delivers every appended record at least once and never commits past an unacked offset", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 30 }),
        fc.array(action, { maxLength: 60 }),
        async (initial, actions) => {
          const log = new MemoryLog();
          log.createTopic("t", { partitions: PARTITIONS });
          let seq = 0;
          const append = (key: number): void =>
            void log.append("t", { key: `k${key}`, value: seq++ });
          for (let i = 0; i < initial; i++) append(i % 7);

          const delivered = new Set<string>();
          const acked = new Set<string>();
          const pool: { readonly r: Record<number>; readonly m: Member }[] = [];
          const members: Member[] = [];
          const id = (r: Record<number>): string =>
            `${r.origin!.partition}:${r.origin!.offset}`;

          const join = async (): Promise<void> => {
            const source = memorySource<number>(log, {
              group: "g",
              topics: ["t"],
              scheduler: queueScheduler,
              commitIntervalMs: 0,
              drainTimeoutMs: 0,
              maxInFlight: 8,
              lowWatermark: 4,
            });
            const m: Member = {
              source,
              crashed: false,
              subscription: source.records().subscribe({
                next: (r) => {
                  delivered.add(id(r));
                  pool.push({ r, m });
                },
                error: () => undefined,
              }),
            };
            members.push(m);
            await source.connect();
          };
          const live = (): Member[] => members.filter((m) => !m.crashed);
          const settle = async (): Promise<void> => {
            await log.settled("g");
            await tick();
            await log.settled("g");
          };
          const checkCommits = (): void => {
            for (let p = 0; p < PARTITIONS; p++) {
              const committed = log.committed("g", "t", p) ?? 0;
              for (let o = 0; o < committed; o++)
                expect(
                  acked.has(`${p}:${o}`),
                  `partition ${p} committed ${committed} past unacked ${o}`,
                ).toBe(true);
            }
          };

          await join();
          await settle();
          for (const a of actions) {
            if (a.t === "append") append(a.key);
            else if (a.t === "join" && live().length < 3) await join();
            else if (a.t === "commit")
              for (const m of live()) await m.source.commit();
            else if (a.t === "crash") {
              const victims = live();
              const victim = victims[a.pick % victims.length]!;
              victim.crashed = true;
              await log.crash(victim.source.member!);
              if (live().length === 0) await join();
            } else if ((a.t === "ack" || a.t === "nack") && pool.length > 0) {
              const [{ r, m }] = pool.splice(a.pick % pool.length, 1) as [
                { r: Record<number>; m: Member },
              ];
              if (a.t === "ack") {
                if (!m.crashed) acked.add(id(r));
                r.ack.ack();
              } else
                r.ack.nack(
                  new SluiceError("PROCESS", "random failure", {
                    retryable: true,
                  }),
                );
            }
            await settle();
            checkCommits();
          }

          // Wind down: close everyone (drain bound 0), then one member reads to the end, acking.
          pool.length = 0;
          for (const m of live()) await m.source.close();
          for (const m of members) m.subscription.unsubscribe();
          checkCommits();
          const last = memorySource<number>(log, {
            group: "g",
            topics: ["t"],
            scheduler: queueScheduler,
            commitIntervalMs: 0,
            stopAtEnd: true,
          });
          const sub = new Subscription();
          await new Promise<void>((resolve, reject) => {
            sub.add(
              last.records().subscribe({
                next: (r) => {
                  delivered.add(id(r));
                  acked.add(id(r));
                  r.ack.ack();
                },
                complete: resolve,
                error: reject,
              }),
            );
          });
          sub.unsubscribe();
          await last.close();
          checkCommits();
          for (let p = 0; p < PARTITIONS; p++) {
            for (let o = 0; o < log.endOffset("t", p); o++)
              expect(
                delivered.has(`${p}:${o}`),
                `record ${p}:${o} never delivered`,
              ).toBe(true);
            expect(log.committed("g", "t", p) ?? 0).toBe(log.endOffset("t", p));
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

import { describe, expect, it } from "vitest";
import { SluiceError } from "../../operators/sluice-error.js";
import type { TopicPartition } from "../types.js";
import { MemoryLog } from "./log.js";
import type { GroupMemberListener } from "./log.js";
import { murmur2, partitionForKey } from "./partitioner.js";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A member that records what it owns and revokes at once. */
function member(): GroupMemberListener & {
  owned: TopicPartition[];
  crashed: boolean;
} {
  const m = {
    owned: [] as TopicPartition[],
    crashed: false,
    onAssign(ps: readonly TopicPartition[]) {
      m.owned.push(...ps);
    },
    onRevoke(ps: readonly TopicPartition[]) {
      m.owned = m.owned.filter(
        (o) =>
          !ps.some((p) => p.topic === o.topic && p.partition === o.partition),
      );
    },
    onCrash() {
      m.crashed = true;
    },
  };
  return m;
}

describe("murmur2", () => {
  it("matches the Kafka Java client's test vectors", () => {
    expect(murmur2(bytes("21"))).toBe(-973932308);
    expect(murmur2(bytes("foobar"))).toBe(-790332482);
    expect(murmur2(bytes("a-little-bit-long-string"))).toBe(-985981536);
    expect(murmur2(bytes("a-little-bit-longer-string"))).toBe(-1486304829);
    expect(
      murmur2(bytes("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")),
    ).toBe(-58897971);
    expect(murmur2(bytes("abc"))).toBe(479470107);
  });
});

describe("MemoryLog", () => {
  it("puts a key on the same partition every time, as murmur2 says", () => {
    const log = new MemoryLog();
    log.createTopic("t", { partitions: 6 });
    for (const key of ["a", "user-1", "user-2", "ünïcødé", ""]) {
      const first = log.append("t", { key, value: 1 }).partition;
      expect(log.append("t", { key, value: 2 }).partition).toBe(first);
      expect(first).toBe(partitionForKey(key, 6));
    }
  });

  it("spreads keyless records round-robin and numbers offsets per partition", () => {
    const log = new MemoryLog();
    log.createTopic("t", { partitions: 3 });
    const placed = Array.from({ length: 6 }, (_, i) =>
      log.append("t", { value: i }),
    );
    expect(placed.map((p) => p.partition)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(placed.map((p) => p.offset)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(log.read("t", 1, 0, 10).map((r) => r.value)).toEqual([1, 4]);
  });

  it("keeps headers and timestamps, and stamps records without one from its clock", () => {
    const log = new MemoryLog({ now: () => 42 });
    log.createTopic("t", { partitions: 1 });
    log.append("t", { key: "k", value: 1, headers: { h: "v" }, timestamp: 7 });
    log.append("t", { key: "k", value: 2 });
    const [a, b] = log.read("t", 0, 0, 10);
    expect(a).toMatchObject({ headers: { h: "v" }, timestamp: 7, offset: 0 });
    expect(b).toMatchObject({ headers: {}, timestamp: 42, offset: 1 });
  });

  it("drops the oldest records beyond retention and reads from the oldest kept one", () => {
    const log = new MemoryLog({ retentionRecords: 3 });
    log.createTopic("t", { partitions: 1 });
    for (let i = 0; i < 5000; i++) log.append("t", { value: i });
    expect(log.startOffset("t", 0)).toBe(4997);
    expect(log.endOffset("t", 0)).toBe(5000);
    expect(log.read("t", 0, 0, 10).map((r) => r.offset)).toEqual([
      4997, 4998, 4999,
    ]);
  });

  it("rejects unknown topics and bad partition counts with typed errors", () => {
    const log = new MemoryLog();
    expect(() => log.append("nope", { value: 1 })).toThrow(SluiceError);
    expect(() => log.createTopic("t", { partitions: 0 })).toThrow(/partitions/);
    log.createTopic("t", { partitions: 2 });
    expect(() => log.createTopic("t", { partitions: 2 })).not.toThrow();
    expect(() => log.createTopic("t", { partitions: 3 })).toThrow(/exists/);
  });

  it("balances partitions across members and moves them when members join and leave", async () => {
    const log = new MemoryLog();
    log.createTopic("t", { partitions: 7 });
    const a = member();
    const b = member();
    const c = member();
    const ja = log.join("g", ["t"], a);
    await ja.ready;
    expect(a.owned).toHaveLength(7);
    await log.join("g", ["t"], b).ready;
    const jc = log.join("g", ["t"], c);
    await jc.ready;
    expect([a.owned.length, b.owned.length, c.owned.length].sort()).toEqual([
      2, 2, 3,
    ]);
    const all = [...a.owned, ...b.owned, ...c.owned]
      .map((p) => p.partition)
      .sort();
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6]);
    await log.leave(jc.memberId);
    expect(a.owned.length + b.owned.length).toBe(7);
    expect(Math.abs(a.owned.length - b.owned.length)).toBeLessThanOrEqual(1);
  });

  it("assigns round-robin over topics when asked", async () => {
    const log = new MemoryLog({ assignment: "round-robin" });
    log.createTopic("x", { partitions: 1 });
    log.createTopic("y", { partitions: 1 });
    const a = member();
    const b = member();
    await log.join("g", ["x", "y"], a).ready;
    await log.join("g", ["x", "y"], b).ready;
    expect(a.owned).toHaveLength(1);
    expect(b.owned).toHaveLength(1);
  });

  it("accepts commits only from the owner of a partition", async () => {
    const log = new MemoryLog();
    log.createTopic("t", { partitions: 1 });
    const a = log.join("g", ["t"], member());
    await a.ready;
    log.commit(a.memberId, [{ topic: "t", partition: 0, offset: 3 }]);
    expect(log.committed("g", "t", 0)).toBe(3);
    const b = log.join("g", ["t"], member());
    await b.ready;
    expect(() =>
      log.commit(b.memberId, [{ topic: "t", partition: 0, offset: 4 }]),
    ).toThrow(/does not own/);
  });

  it("on crash, hands the member's partitions to the others without its uncommitted progress", async () => {
    const log = new MemoryLog();
    log.createTopic("t", { partitions: 2 });
    const ma = member();
    const mb = member();
    const a = log.join("g", ["t"], ma);
    await a.ready;
    log.commit(a.memberId, [{ topic: "t", partition: 0, offset: 5 }]);
    const b = log.join("g", ["t"], mb);
    await b.ready;
    await log.crash(b.memberId);
    expect(mb.crashed).toBe(true);
    expect(ma.owned.map((p) => p.partition).sort()).toEqual([0, 1]);
    expect(log.members("g")).toEqual([a.memberId]);
    expect(() =>
      log.commit(b.memberId, [{ topic: "t", partition: 1, offset: 1 }]),
    ).toThrow(SluiceError);
    expect(log.committed("g", "t", 0)).toBe(5);
    expect(log.committed("g", "t", 1)).toBeUndefined();
  });

  it("revokes everything and assigns it again on a forced rebalance", async () => {
    const log = new MemoryLog();
    log.createTopic("t", { partitions: 2 });
    const revoked: number[] = [];
    const m = member();
    const listener: GroupMemberListener = {
      onAssign: (ps) => m.onAssign(ps),
      onRevoke: (ps) => {
        revoked.push(...ps.map((p) => p.partition));
        return m.onRevoke(ps);
      },
    };
    await log.join("g", ["t"], listener).ready;
    await log.rebalance("g");
    expect(revoked.sort()).toEqual([0, 1]);
    expect(m.owned).toHaveLength(2);
    expect(log.generation("g")).toBe(2);
  });
});

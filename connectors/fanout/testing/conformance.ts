import { describe, expect, it } from "vitest";
import type { FiringStore } from "../../schedule/store.js";
import type { ActionKey, ActionLog } from "../action-log.js";
import type { SendAtQueue } from "../send-at-queue.js";

const k = (recipient: string, action = "email"): ActionKey => ({
  firingId: "job@2026-11-21T17:01:00.000Z",
  recipient,
  action,
});

/**
 * The behaviour every {@link ActionLog} must have, run against memory in unit tests and
 * PostgreSQL in integration tests (STYLE.md habit 11). `make` returns a fresh, empty log.
 *
 * @example
 * ```ts
 * actionLogConformance("memory", () => Promise.resolve(memoryActionLog()));
 * ```
 */
export function actionLogConformance(
  name: string,
  make: () => Promise<ActionLog>,
): void {
  describe(`ActionLog conformance: ${name}`, () => {
    it("plans once: new, then planned; the key identifies (firing, recipient, action)", async () => {
      const log = await make();
      expect((await log.plan(k("a"), "smtp", 1)).status).toBe("new");
      expect((await log.plan(k("a"), "smtp", 2)).status).toBe("planned");
      expect((await log.plan(k("a", "whatsapp"), "wa", 2)).status).toBe("new");
      const many = await log.planMany([k("a"), k("b"), k("b")], "smtp", 3);
      expect(many.map((p) => p.status)).toEqual(["planned", "new", "new"]);
      expect((await log.listFiring(k("a").firingId)).length).toBe(3);
    });

    it("attempt or confirm of an action never planned names the key", async () => {
      const log = await make();
      await expect(log.attempt(k("ghost"), 1, 100)).rejects.toThrow(
        /no action planned for .*ghost/,
      );
      await expect(log.confirm(k("ghost"), undefined, 1)).rejects.toThrow(
        /no action planned/,
      );
    });

    it("attempt → confirm → sent; a sent action is never attempted again", async () => {
      const log = await make();
      await log.plan(k("a"), "smtp", 1);
      expect(await log.attempt(k("a"), 2, 1_000)).toBe(true);
      await log.confirm(k("a"), "<id@x>", 3);
      const p = await log.plan(k("a"), "smtp", 4);
      expect(p.status).toBe("sent");
      expect(p.entry.providerId).toBe("<id@x>");
      expect(p.entry.attempts).toBe(1);
      expect(await log.attempt(k("a"), 5, 1_000)).toBe(false);
      await log.fail(k("a"), "late failure", 6);
      expect((await log.get(k("a")))?.state).toBe("sent");
    });

    it("an attempt under a live lease is in progress; after the lease it is unconfirmed", async () => {
      const log = await make();
      await log.plan(k("a"), "smtp", 1);
      expect(await log.attempt(k("a"), 10, 100)).toBe(true);
      expect((await log.plan(k("a"), "smtp", 50)).status).toBe("in-progress");
      expect(await log.attempt(k("a"), 50, 100)).toBe(false);
      expect((await log.plan(k("a"), "smtp", 110)).status).toBe("unconfirmed");
      expect(await log.attempt(k("a"), 110, 100)).toBe(true);
      expect((await log.get(k("a")))?.attempts).toBe(2);
    });

    it("fail records the reason; failed may be attempted again, unknown may not", async () => {
      const log = await make();
      await log.planMany([k("a"), k("b")], "smtp", 1);
      await log.attempt(k("a"), 1, 100);
      await log.fail(k("a"), "550 no such user", 2);
      const a = await log.plan(k("a"), "smtp", 3);
      expect([a.status, a.entry.reason]).toEqual([
        "failed",
        "550 no such user",
      ]);
      expect(await log.attempt(k("a"), 3, 100)).toBe(true);
      await log.attempt(k("b"), 1, 100);
      await log.fail(k("b"), "timed out after DATA", 2, "unknown");
      expect((await log.plan(k("b"), "smtp", 3)).status).toBe("unknown");
      expect(await log.attempt(k("b"), 3, 100)).toBe(false);
    });
  });
}

/**
 * The behaviour every {@link SendAtQueue} must have. `make` returns a fresh, empty queue.
 *
 * @example
 * ```ts
 * sendAtQueueConformance("memory", () => Promise.resolve(memorySendAtQueue()));
 * ```
 */
export function sendAtQueueConformance(
  name: string,
  make: () => Promise<SendAtQueue<{ readonly n: number }>>,
): void {
  describe(`SendAtQueue conformance: ${name}`, () => {
    it("hands out items only once due, earliest first; enqueue is idempotent by id", async () => {
      const q = await make();
      expect(
        await q.enqueue([
          { id: "b", dueAt: 200, payload: { n: 2 } },
          { id: "a", dueAt: 100, payload: { n: 1 } },
        ]),
      ).toBe(2);
      expect(await q.enqueue([{ id: "a", dueAt: 5, payload: { n: 9 } }])).toBe(
        0,
      );
      expect(await q.nextDueAt()).toBe(100);
      expect(await q.claim(99, 10, 1_000)).toEqual([]);
      const got = await q.claim(250, 10, 1_000);
      expect(got.map((i) => [i.id, i.payload.n, i.attempts])).toEqual([
        ["a", 1, 1],
        ["b", 2, 1],
      ]);
      expect(await q.claim(300, 10, 1_000)).toEqual([]); // leased
      for (const i of got) await q.complete(i, 300);
      expect(await q.pending()).toBe(0);
      expect(await q.claim(5_000, 10, 1_000)).toEqual([]);
    });

    it("re-delivers an item whose lease ran out (a crashed claimer) and ignores the stale lease", async () => {
      const q = await make();
      await q.enqueue([{ id: "x", dueAt: 0, payload: { n: 1 } }]);
      const [first] = await q.claim(10, 1, 100);
      expect(await q.claim(50, 1, 100)).toEqual([]);
      const [again] = await q.claim(110, 1, 100);
      expect(again?.attempts).toBe(2);
      await q.complete(first!, 120); // the crashed claimer's token no longer counts
      expect(await q.pending()).toBe(1);
      await q.complete(again!, 120);
      expect(await q.pending()).toBe(0);
    });

    it("release puts an item back, due later", async () => {
      const q = await make();
      await q.enqueue([{ id: "x", dueAt: 0, payload: { n: 1 } }]);
      const [item] = await q.claim(10, 1, 1_000);
      await q.release(item!, 20, 500);
      expect(await q.claim(100, 1, 1_000)).toEqual([]);
      expect((await q.claim(500, 1, 1_000)).map((i) => i.id)).toEqual(["x"]);
    });

    it("limits a claim to `limit` items", async () => {
      const q = await make();
      await q.enqueue(
        Array.from({ length: 5 }, (_, i) => ({
          id: `i${i}`,
          dueAt: i,
          payload: { n: i },
        })),
      );
      expect((await q.claim(10, 2, 1_000)).map((i) => i.id)).toEqual([
        "i0",
        "i1",
      ]);
      expect((await q.claim(10, 10, 1_000)).map((i) => i.id)).toEqual([
        "i2",
        "i3",
        "i4",
      ]);
    });
  });
}

/**
 * The behaviour every {@link FiringStore} must have. `make` returns a fresh, empty store.
 *
 * @example
 * ```ts
 * firingStoreConformance("memory", () => Promise.resolve(memoryFiringStore()));
 * ```
 */
export function firingStoreConformance(
  name: string,
  make: () => Promise<FiringStore>,
): void {
  const f = (at: number) => ({
    job: "j",
    id: `j@${new Date(at).toISOString()}`,
    scheduledAt: at,
  });
  describe(`FiringStore conformance: ${name}`, () => {
    it("begin on a new firing runs it; on a done one it does not (a duplicate)", async () => {
      const s = await make();
      expect(await s.begin(f(1_000), 1)).toEqual({
        previous: undefined,
        run: true,
        attempts: 1,
      });
      await s.finish(f(1_000), "done", 2);
      expect(await s.begin(f(1_000), 3)).toEqual({
        previous: "done",
        run: false,
        attempts: 1,
      });
      expect((await s.get("j", 1_000))?.status).toBe("done");
    });

    it("an unfinished or failed firing runs again with attempts counted", async () => {
      const s = await make();
      await s.begin(f(1_000), 1);
      expect(await s.begin(f(1_000), 2)).toEqual({
        previous: "started",
        run: true,
        attempts: 2,
      });
      await s.finish(f(1_000), "failed", 3, "boom");
      expect((await s.get("j", 1_000))?.reason).toBe("boom");
      expect(await s.begin(f(1_000), 4)).toEqual({
        previous: "failed",
        run: true,
        attempts: 3,
      });
    });

    it("last is the latest scheduled instant; skips are recorded with a reason; done stays done", async () => {
      const s = await make();
      await s.finish(f(3_000), "skipped", 1, "overlap");
      await s.begin(f(2_000), 1);
      await s.finish(f(2_000), "done", 1);
      await s.finish(f(2_000), "failed", 2, "late");
      expect((await s.last("j"))?.scheduledAt).toBe(3_000);
      expect(
        (await s.list("j")).map((e) => [
          e.scheduledAt,
          e.status,
          e.reason ?? null,
        ]),
      ).toEqual([
        [2_000, "done", null],
        [3_000, "skipped", "overlap"],
      ]);
      expect(await s.last("other")).toBeUndefined();
    });
  });
}

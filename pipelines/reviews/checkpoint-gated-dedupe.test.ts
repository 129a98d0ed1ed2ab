import { firstValueFrom } from "rxjs";
import { describe, expect, it } from "vitest";
import { memoryStateBackend } from "../../operators/memory-state-backend.js";
import {
  checkpointGatedDedupe,
  gatedId,
  recordingDedupeStore,
} from "./checkpoint-gated-dedupe.js";

const confirm = (
  g: ReturnType<typeof checkpointGatedDedupe>,
  id: string,
): Promise<void> =>
  firstValueFrom(g.store.confirm(id, 60_000), { defaultValue: undefined });

describe("checkpointGatedDedupe", () => {
  it("writes a confirm to the far store only after a checkpoint that covers it has been saved", async () => {
    const far = recordingDedupeStore();
    const g = checkpointGatedDedupe(far, memoryStateBackend());
    const a = gatedId("t/0", "a");
    const b = gatedId("t/1", "b");
    expect(await firstValueFrom(g.store.claim(a, 1_000))).toBe("claimed");
    await confirm(g, a);
    await confirm(g, b);
    expect(far.confirmed.size).toBe(0);
    // A duplicate in this process is answered here, before the far store knows.
    expect(await firstValueFrom(g.store.claim(a, 1_000))).toBe("confirmed");

    g.backend.snapshot(["t/0"]); // checkpoint 1 covers partition 0 only
    expect(g.pending).toEqual({ uncovered: 1, covered: 1 });
    expect(far.confirmed.size).toBe(0); // its save may still fail

    g.backend.snapshot(); // checkpoint 2: checkpoint 1 is saved by now
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect([...far.confirmed]).toEqual([a]);
    await g.flush(); // after the final checkpoint
    expect([...far.confirmed].sort()).toEqual([a, b].sort());
  });

  it("never writes the confirms of effects a restore or a revoke threw away", async () => {
    const far = recordingDedupeStore();
    const g = checkpointGatedDedupe(far, memoryStateBackend());
    await confirm(g, gatedId("t/0", "lost-by-restore"));
    await confirm(g, gatedId("t/1", "lost-by-revoke"));
    g.backend.restore({
      version: 1,
      partitions: {
        "t/0": { values: {}, maps: {}, timers: { event: [], processing: [] } },
      },
    });
    g.backend.dropPartition("t/1");
    g.backend.snapshot();
    await g.flush();
    expect(far.confirmed.size).toBe(0);
  });

  it("forgets a released id", async () => {
    const far = recordingDedupeStore();
    const g = checkpointGatedDedupe(far, memoryStateBackend());
    const id = gatedId("t/0", "x");
    await confirm(g, id);
    await firstValueFrom(g.store.release(id), { defaultValue: undefined });
    g.backend.snapshot();
    await g.flush();
    expect(far.confirmed.size).toBe(0);
    expect(await firstValueFrom(g.store.claim(id, 1_000))).toBe("claimed");
  });
});

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
const claim = (g: ReturnType<typeof checkpointGatedDedupe>, id: string) =>
  firstValueFrom(g.store.claim(id, 1_000));

describe("checkpointGatedDedupe", () => {
  it("writes a confirm to the far store only once the checkpoint that covers it is saved", async () => {
    const far = recordingDedupeStore();
    const g = checkpointGatedDedupe(far, memoryStateBackend());
    const a = gatedId("t/0", "a");
    const b = gatedId("t/1", "b");
    expect(await claim(g, a)).toBe("claimed");
    await confirm(g, a);
    await confirm(g, b);
    expect(far.confirmed.size).toBe(0);
    // A duplicate in this process is answered here, before the far store knows.
    expect(await claim(g, a)).toBe("confirmed");

    g.backend.snapshot(["t/0"]); // a checkpoint of partition 0 only
    expect(g.pending).toEqual({ unsaved: 1, saving: 1 });
    await g.flush();
    expect(far.confirmed.size).toBe(0); // its save may still fail
    g.backend.checkpointSaved!(["t/0"]);
    await g.flush();
    expect([...far.confirmed]).toEqual([a]);
    expect(g.pending).toEqual({ unsaved: 1, saving: 0 });
  });

  it("never takes a failed save for saved: its ids wait for the next snapshot", async () => {
    const far = recordingDedupeStore();
    const g = checkpointGatedDedupe(far, memoryStateBackend());
    const a = gatedId("t/0", "a");
    await confirm(g, a);
    g.backend.snapshot(["t/0"]);
    g.backend.checkpointAborted!(["t/0"]);
    // The next snapshot (without a save) must not write them either.
    g.backend.snapshot(["t/0"]);
    await g.flush();
    expect(far.confirmed.size).toBe(0);
    expect(await claim(g, a)).toBe("confirmed"); // still this process's to answer
    g.backend.checkpointSaved!(["t/0"]);
    await g.flush();
    expect([...far.confirmed]).toEqual([a]);
  });

  it("never writes the confirms of effects a restore, a revoke or a fence threw away", async () => {
    const far = recordingDedupeStore();
    const g = checkpointGatedDedupe(far, memoryStateBackend());
    await confirm(g, gatedId("t/0", "lost-by-restore"));
    await confirm(g, gatedId("t/1", "lost-by-revoke"));
    await confirm(g, gatedId("t/2", "lost-by-fence"));
    g.backend.snapshot(["t/2"]);
    g.backend.restore({
      version: 1,
      partitions: {
        "t/0": { values: {}, maps: {}, timers: { event: [], processing: [] } },
      },
    });
    g.backend.dropPartition("t/1");
    g.backend.dropPartition("t/2"); // the coordinator drops a fenced partition
    g.backend.checkpointAborted!(["t/2"]);
    g.backend.snapshot();
    g.backend.checkpointSaved!(["t/0", "t/1", "t/2"]);
    await g.flush();
    expect(far.confirmed.size).toBe(0);
  });

  it("forgets a released id", async () => {
    const far = recordingDedupeStore();
    const g = checkpointGatedDedupe(far, memoryStateBackend());
    const id = gatedId("t/0", "x");
    expect(await claim(g, id)).toBe("claimed");
    await firstValueFrom(g.store.release(id), { defaultValue: undefined });
    g.backend.snapshot();
    g.backend.checkpointSaved!(["t/0"]);
    await g.flush();
    expect(far.confirmed.size).toBe(0);
    expect(await claim(g, id)).toBe("claimed");
  });

  it("takes over a claim left by another process (the partition's previous owner); its own claims make duplicates wait", async () => {
    const far = recordingDedupeStore();
    const previous = checkpointGatedDedupe(far, memoryStateBackend());
    const owner = checkpointGatedDedupe(far, memoryStateBackend());
    const id = gatedId("t/0", "x");
    expect(await claim(previous, id)).toBe("claimed");
    // The previous owner died (or was fenced) before a checkpoint held the effect: the new
    // owner runs the record at once instead of waiting for the claim TTL.
    expect(await claim(owner, id)).toBe("claimed");
    // A second copy in the owner while the first is in flight waits for its outcome.
    expect(await claim(owner, id)).toBe("exists");
    await confirm(owner, id);
    expect(await claim(owner, id)).toBe("confirmed");
  });

  it("with unsafeConfirmBeforeCheckpoint (chaos suite only) confirms in the far store at once", async () => {
    const far = recordingDedupeStore();
    const g = checkpointGatedDedupe(far, memoryStateBackend(), {
      unsafeConfirmBeforeCheckpoint: true,
    });
    await confirm(g, gatedId("t/0", "a"));
    expect(far.confirmed.size).toBe(1);
  });
});

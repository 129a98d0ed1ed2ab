import { open, readFile, rename, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { ChangePosition } from "./change-feed.js";

/**
 * Durable record of the relay's position: the last CDC item whose event is on the topic.
 *
 * @example
 * ```ts
 * const store = filePositionStore("/var/lib/sluice/reviews-cdc.position.json");
 * const from = await store.load();
 * ```
 */
export interface PositionStore {
  load(): Promise<ChangePosition | undefined>;
  save(position: ChangePosition): Promise<void>;
}

function parsePosition(text: string, where: string): ChangePosition {
  const v: unknown = JSON.parse(text);
  if (typeof v === "object" && v !== null) {
    const { segmentId, offset, index } = v as { [k: string]: unknown };
    if (
      typeof segmentId === "number" &&
      typeof offset === "number" &&
      typeof index === "number"
    ) {
      return { segmentId, offset, index };
    }
  }
  throw new Error(`${where}: not a CDC position: ${text.slice(0, 200)}`);
}

/**
 * A {@link PositionStore} in one small JSON file, replaced atomically (write, fsync, rename).
 *
 * @example
 * const store = filePositionStore(join(stateDir, "reviews-cdc", "position.json"));
 */
export function filePositionStore(path: string): PositionStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
      return parsePosition(text, path);
    },
    async save(position) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      const file = await open(tmp, "w");
      try {
        await file.writeFile(JSON.stringify(position));
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, path);
    },
  };
}

/**
 * A {@link PositionStore} in memory: survives a relay restart within one process (demo, tests).
 *
 * @example
 * const store = memoryPositionStore();
 */
export function memoryPositionStore(
  initial?: ChangePosition,
): PositionStore & { readonly current: ChangePosition | undefined } {
  let current = initial;
  return {
    get current() {
      return current;
    },
    load: () => Promise.resolve(current),
    save: (p) => {
      current = p;
      return Promise.resolve();
    },
  };
}

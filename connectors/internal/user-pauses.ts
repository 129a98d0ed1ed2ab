import type { TopicPartition } from "../types.js";
import { tpKey } from "./partition-key.js";

/**
 * What `pause()` and `resume()` of a source asked for: the whole source, or partitions by
 * {@link tpKey}. Resuming some partitions leaves a pause of all in place.
 * @internal
 */
export class UserPauses {
  private all = false;
  private readonly keys = new Set<string>();

  /** True after `pause()` of everything, until `resume()` of everything. */
  get allPaused(): boolean {
    return this.all;
  }

  /** True when the partition with this key was paused by name. */
  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** Pauses `partitions`, or the whole source when none are given. */
  pause(partitions?: readonly TopicPartition[]): void {
    if (partitions === undefined) this.all = true;
    else
      for (const tp of partitions) this.keys.add(tpKey(tp.topic, tp.partition));
  }

  /** Resumes `partitions`, or everything (every partition too) when none are given. */
  resume(partitions?: readonly TopicPartition[]): void {
    if (partitions === undefined) {
      this.all = false;
      this.keys.clear();
    } else
      for (const tp of partitions)
        this.keys.delete(tpKey(tp.topic, tp.partition));
  }
}

import type {
  PartitionSnapshot,
  StateBackend,
  StateSnapshot,
  StoredEntry,
  TimerDomain,
  TimerEntry,
} from "./state-backend.js";

interface Entry {
  value: unknown;
  expiresAt: number | undefined;
}

/** Timers of one domain in one partition: sorted distinct times, keys per time. */
class Timers {
  readonly times: number[] = [];
  readonly keys = new Map<number, Set<string>>();

  add(time: number, key: string): void {
    let set = this.keys.get(time);
    if (set === undefined) {
      set = new Set();
      this.keys.set(time, set);
      const times = this.times;
      let lo = 0;
      let hi = times.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (times[mid]! < time) lo = mid + 1;
        else hi = mid;
      }
      times.splice(lo, 0, time);
    }
    set.add(key);
  }

  delete(time: number, key: string): void {
    const set = this.keys.get(time);
    if (set === undefined || !set.delete(key)) return;
    if (set.size === 0) {
      this.keys.delete(time);
      this.times.splice(this.times.indexOf(time), 1);
    }
  }

  get first(): number | undefined {
    return this.times[0];
  }

  pollFirst(): [string, number] {
    const time = this.times[0]!;
    const set = this.keys.get(time)!;
    const key = set.values().next().value!;
    set.delete(key);
    if (set.size === 0) {
      this.keys.delete(time);
      this.times.shift();
    }
    return [key, time];
  }

  get empty(): boolean {
    return this.times.length === 0;
  }

  rows(): [string, number][] {
    const out: [string, number][] = [];
    for (const time of this.times)
      for (const key of this.keys.get(time)!) out.push([key, time]);
    return out;
  }
}

class PartitionState {
  readonly values = new Map<string, Map<string, Entry>>();
  readonly maps = new Map<string, Map<string, Map<string, Entry>>>();
  readonly timers: { readonly [D in TimerDomain]: Timers } = {
    event: new Timers(),
    processing: new Timers(),
  };

  get empty(): boolean {
    return (
      this.values.size === 0 &&
      this.maps.size === 0 &&
      this.timers.event.empty &&
      this.timers.processing.empty
    );
  }
}

const live = (entry: Entry | undefined, now: number): entry is Entry =>
  entry !== undefined &&
  (entry.expiresAt === undefined || entry.expiresAt > now);

function copy<V>(value: V): V {
  return value === undefined || value === null || typeof value !== "object"
    ? value
    : structuredClone(value);
}

function rows(entries: Map<string, Entry>): StoredEntry[] {
  const out: StoredEntry[] = [];
  for (const [key, e] of entries)
    out.push([key, copy(e.value), e.expiresAt ?? null]);
  return out;
}

function fromRows(rows: readonly StoredEntry[]): Map<string, Entry> {
  const m = new Map<string, Entry>();
  for (const [key, value, expiresAt] of rows)
    m.set(key, { value: copy(value), expiresAt: expiresAt ?? undefined });
  return m;
}

class MemoryStateBackend implements StateBackend {
  private readonly parts = new Map<string, PartitionState>();
  private readonly restoreListeners = new Set<() => void>();
  private heldOutputs = 0;

  onRestore(listener: () => void): () => void {
    this.restoreListeners.add(listener);
    return () => this.restoreListeners.delete(listener);
  }

  holdOutput(): () => void {
    this.heldOutputs += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.heldOutputs -= 1;
    };
  }

  outputsInFlight(): number {
    return this.heldOutputs;
  }

  private part(partition: string): PartitionState {
    let p = this.parts.get(partition);
    if (p === undefined) {
      p = new PartitionState();
      this.parts.set(partition, p);
    }
    return p;
  }

  getValue(partition: string, name: string, key: string, now: number): unknown {
    const byKey = this.parts.get(partition)?.values.get(name);
    const entry = byKey?.get(key);
    if (live(entry, now)) return entry.value;
    if (entry !== undefined) byKey!.delete(key);
    return undefined;
  }

  setValue(
    partition: string,
    name: string,
    key: string,
    value: unknown,
    expiresAt: number | undefined,
  ): void {
    const values = this.part(partition).values;
    let byKey = values.get(name);
    if (byKey === undefined) {
      byKey = new Map();
      values.set(name, byKey);
    }
    const entry = byKey.get(key);
    if (entry !== undefined) {
      entry.value = value;
      entry.expiresAt = expiresAt;
    } else byKey.set(key, { value, expiresAt });
  }

  clearValue(partition: string, name: string, key: string): void {
    const p = this.parts.get(partition);
    const byKey = p?.values.get(name);
    if (byKey === undefined) return;
    byKey.delete(key);
    if (byKey.size === 0) p!.values.delete(name);
  }

  private map(
    partition: string,
    name: string,
    key: string,
    create: boolean,
  ): Map<string, Entry> | undefined {
    const maps = create
      ? this.part(partition).maps
      : this.parts.get(partition)?.maps;
    if (maps === undefined) return undefined;
    let byKey = maps.get(name);
    if (byKey === undefined) {
      if (!create) return undefined;
      byKey = new Map();
      maps.set(name, byKey);
    }
    let m = byKey.get(key);
    if (m === undefined && create) {
      m = new Map();
      byKey.set(key, m);
    }
    return m;
  }

  getMapEntry(
    partition: string,
    name: string,
    key: string,
    mapKey: string,
    now: number,
  ): unknown {
    const m = this.map(partition, name, key, false);
    const entry = m?.get(mapKey);
    if (live(entry, now)) return entry.value;
    if (entry !== undefined) m!.delete(mapKey);
    return undefined;
  }

  setMapEntry(
    partition: string,
    name: string,
    key: string,
    mapKey: string,
    value: unknown,
    expiresAt: number | undefined,
  ): void {
    this.map(partition, name, key, true)!.set(mapKey, { value, expiresAt });
  }

  deleteMapEntry(
    partition: string,
    name: string,
    key: string,
    mapKey: string,
  ): void {
    const m = this.map(partition, name, key, false);
    if (m === undefined) return;
    m.delete(mapKey);
    if (m.size === 0) this.clearMap(partition, name, key);
  }

  mapEntries(
    partition: string,
    name: string,
    key: string,
    now: number,
  ): [string, unknown][] {
    const m = this.map(partition, name, key, false);
    const out: [string, unknown][] = [];
    if (m === undefined) return out;
    for (const [k, e] of m) {
      if (live(e, now)) out.push([k, e.value]);
      else m.delete(k);
    }
    return out;
  }

  clearMap(partition: string, name: string, key: string): void {
    const p = this.parts.get(partition);
    const byKey = p?.maps.get(name);
    if (byKey === undefined) return;
    byKey.delete(key);
    if (byKey.size === 0) p!.maps.delete(name);
  }

  registerTimer(
    partition: string,
    domain: TimerDomain,
    key: string,
    time: number,
  ): void {
    this.part(partition).timers[domain].add(time, key);
  }

  deleteTimer(
    partition: string,
    domain: TimerDomain,
    key: string,
    time: number,
  ): void {
    this.parts.get(partition)?.timers[domain].delete(time, key);
  }

  nextTimer(domain: TimerDomain): number | undefined {
    let min: number | undefined;
    for (const p of this.parts.values()) {
      const t = p.timers[domain].first;
      if (t !== undefined && (min === undefined || t < min)) min = t;
    }
    return min;
  }

  pollTimer(domain: TimerDomain, upTo: number): TimerEntry | undefined {
    let best: string | undefined;
    let bestTime = Infinity;
    for (const [partition, p] of this.parts) {
      const t = p.timers[domain].first;
      if (t !== undefined && t <= upTo && t < bestTime) {
        best = partition;
        bestTime = t;
      }
    }
    if (best === undefined) return undefined;
    const [key, time] = this.parts.get(best)!.timers[domain].pollFirst();
    return { partition: best, key, time };
  }

  expire(now: number): number {
    let removed = 0;
    const sweep = (m: Map<string, Entry>): void => {
      for (const [k, e] of m) {
        if (!live(e, now)) {
          m.delete(k);
          removed += 1;
        }
      }
    };
    for (const p of this.parts.values()) {
      for (const [name, byKey] of p.values) {
        sweep(byKey);
        if (byKey.size === 0) p.values.delete(name);
      }
      for (const [name, byKey] of p.maps) {
        for (const [key, m] of byKey) {
          sweep(m);
          if (m.size === 0) byKey.delete(key);
        }
        if (byKey.size === 0) p.maps.delete(name);
      }
    }
    return removed;
  }

  partitions(): string[] {
    return [...this.parts].filter(([, p]) => !p.empty).map(([id]) => id);
  }

  snapshot(partitions?: readonly string[]): StateSnapshot {
    const out: { [partition: string]: PartitionSnapshot } = {};
    for (const id of partitions ?? this.partitions()) {
      const p = this.parts.get(id);
      if (p === undefined) continue;
      const values: { [name: string]: StoredEntry[] } = {};
      for (const [name, byKey] of p.values) values[name] = rows(byKey);
      const maps: { [name: string]: [string, StoredEntry[]][] } = {};
      for (const [name, byKey] of p.maps)
        maps[name] = [...byKey].map(([key, m]) => [key, rows(m)]);
      out[id] = {
        values,
        maps,
        timers: {
          event: p.timers.event.rows(),
          processing: p.timers.processing.rows(),
        },
      };
    }
    return { version: 1, partitions: out };
  }

  restore(snapshot: StateSnapshot): void {
    for (const [id, piece] of Object.entries(snapshot.partitions)) {
      const p = new PartitionState();
      for (const [name, entries] of Object.entries(piece.values))
        p.values.set(name, fromRows(entries));
      for (const [name, keyed] of Object.entries(piece.maps))
        p.maps.set(
          name,
          new Map(keyed.map(([key, entries]) => [key, fromRows(entries)])),
        );
      for (const domain of ["event", "processing"] as const)
        for (const [key, time] of piece.timers[domain])
          p.timers[domain].add(time, key);
      this.parts.set(id, p);
    }
    for (const listener of this.restoreListeners) listener();
  }

  dropPartition(partition: string): void {
    this.parts.delete(partition);
  }
}

/**
 * The embedded state backend: keyed state and timers in memory, partitioned by input
 * partition, snapshotted to plain JSON-able data (values are deep-copied in and out).
 *
 * @example
 * ```ts
 * const backend = memoryStateBackend();
 * events$.pipe(keyedProcess({ backend, process: (r, ctx) => undefined }));
 * await store.put(backend.snapshot()); // in the runtime, with the offsets
 * ```
 */
export function memoryStateBackend(): StateBackend {
  return new MemoryStateBackend();
}

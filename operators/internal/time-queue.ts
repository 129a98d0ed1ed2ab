/**
 * Entries bucketed by time, drained in ascending time order. A binary heap holds the
 * distinct times; a map holds the bucket of each. Windows sharing an end share one bucket,
 * so the heap stays as small as the number of distinct pending times.
 */
export class TimeQueue<V> {
  private readonly buckets = new Map<number, V[]>();
  private readonly heap: number[] = [];

  get size(): number {
    return this.buckets.size;
  }

  add(time: number, value: V): void {
    const bucket = this.buckets.get(time);
    if (bucket !== undefined) {
      bucket.push(value);
      return;
    }
    this.buckets.set(time, [value]);
    const heap = this.heap;
    let i = heap.length;
    heap.push(time);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (p <= time) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = time;
  }

  /** Earliest pending time, or `undefined` when empty. */
  peek(): number | undefined {
    return this.heap[0];
  }

  /**
   * Removes the earliest bucket if its time is at or below `upTo` and passes each entry to
   * `fn` with the bucket time. Returns false when nothing is due. Entries added by `fn` at
   * a due time are seen by a later call.
   */
  pollBucket(upTo: number, fn: (value: V, time: number) => void): boolean {
    const heap = this.heap;
    const time = heap[0];
    if (time === undefined || time > upTo) return false;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && heap[r]! < heap[l]! ? r : l;
        if (heap[c]! >= last) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    const bucket = this.buckets.get(time)!;
    this.buckets.delete(time);
    for (let i = 0; i < bucket.length; i++) fn(bucket[i]!, time);
    return true;
  }

  /** Drains every bucket at or below `upTo`, in time order. */
  drain(upTo: number, fn: (value: V, time: number) => void): void {
    while (this.pollBucket(upTo, fn));
  }

  clear(): void {
    this.buckets.clear();
    this.heap.length = 0;
  }
}

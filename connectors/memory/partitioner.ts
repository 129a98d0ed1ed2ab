/**
 * Kafka's murmur2 hash (the Java client's `Utils.murmur2`), over the UTF-8 bytes of a key.
 * Returns a signed 32-bit integer, exactly as Java does, so a key lands on the same
 * partition in the memory log as with Kafka's default partitioner.
 *
 * @example
 * ```ts
 * murmur2(new TextEncoder().encode("21")); // -973932308
 * ```
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4]! & 0xff) |
      ((data[i4 + 1]! & 0xff) << 8) |
      ((data[i4 + 2]! & 0xff) << 16) |
      ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest >= 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

const encoder = new TextEncoder();

/**
 * The partition Kafka's default partitioner picks for a keyed record:
 * `toPositive(murmur2(utf8(key))) % partitions`.
 *
 * @example
 * ```ts
 * partitionForKey("user-1", 6); // stable across runs and processes
 * ```
 */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(encoder.encode(key)) & 0x7fffffff) % partitions;
}

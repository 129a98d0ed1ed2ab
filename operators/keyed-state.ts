import { SluiceError } from "./sluice-error.js";

/** Options of a state descriptor. */
export interface StateOptions {
  /**
   * Time to live in processing time: an entry expires this long after it was last written
   * and is never read back after that (Flink's OnCreateAndWrite / NeverReturnExpired).
   */
  readonly ttlMs?: number;
}

/**
 * Declares a per-key value state: a name and an optional TTL. Values must be JSON-able.
 *
 * @example
 * ```ts
 * const count = valueState<number>("count", { ttlMs: 86_400_000 });
 * ```
 */
export interface ValueStateDescriptor<T> {
  readonly kind: "value";
  readonly name: string;
  readonly ttlMs: number | undefined;
  /** Type marker only. */
  readonly _type?: (value: T) => T;
}

/**
 * Declares a per-key map state with string keys. Values must be JSON-able.
 *
 * @example
 * ```ts
 * const seen = mapState<number>("seen-by-product");
 * ```
 */
export interface MapStateDescriptor<V> {
  readonly kind: "map";
  readonly name: string;
  readonly ttlMs: number | undefined;
  /** Type marker only. */
  readonly _type?: (value: V) => V;
}

/**
 * The value state of the current key.
 *
 * @example
 * ```ts
 * const s = ctx.state(count);
 * s.update((s.value() ?? 0) + 1);
 * ```
 */
export interface ValueState<T> {
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}

/**
 * The map state of the current key.
 *
 * @example
 * ```ts
 * const m = ctx.state(seen);
 * m.put(r.value.productId, (m.get(r.value.productId) ?? 0) + 1);
 * ```
 */
export interface MapState<V> {
  get(key: string): V | undefined;
  put(key: string, value: V): void;
  remove(key: string): void;
  contains(key: string): boolean;
  entries(): [string, V][];
  keys(): string[];
  isEmpty(): boolean;
  clear(): void;
}

function checkName(kind: string, name: string, options: StateOptions): void {
  if (name.length === 0)
    throw new SluiceError("CONFIG", `${kind}.name must not be empty`);
  const ttl = options.ttlMs;
  if (ttl !== undefined && (!Number.isFinite(ttl) || ttl <= 0))
    throw new SluiceError(
      "CONFIG",
      `${kind}("${name}").ttlMs must be a positive number, got ${ttl}`,
    );
}

/**
 * Declares a per-key {@link ValueState}.
 *
 * @example
 * ```ts
 * const lastSeen = valueState<number>("last-seen", { ttlMs: 3_600_000 });
 * ```
 */
export function valueState<T>(
  name: string,
  options: StateOptions = {},
): ValueStateDescriptor<T> {
  checkName("valueState", name, options);
  return { kind: "value", name, ttlMs: options.ttlMs };
}

/**
 * Declares a per-key {@link MapState} with string keys.
 *
 * @example
 * ```ts
 * const items = mapState<{ qty: number }>("basket-items", { ttlMs: 7 * 86_400_000 });
 * ```
 */
export function mapState<V>(
  name: string,
  options: StateOptions = {},
): MapStateDescriptor<V> {
  checkName("mapState", name, options);
  return { kind: "map", name, ttlMs: options.ttlMs };
}

/** A header value as the drivers hand it over. @internal */
export type HeaderValue = Buffer | string | undefined | null;

/** Shared by every message without headers (most of them): nothing to allocate. */
const NO_HEADERS: { readonly [name: string]: string } = Object.freeze({});

/**
 * Header values as strings, whatever the driver hands over: buffers as UTF-8, a repeated
 * header keeps its last value, missing values are left out. Messages without headers (the
 * drivers hand over `{}` or nothing) all share one frozen empty object.
 * @internal
 */
export function headersToStrings(
  headers:
    | { readonly [name: string]: HeaderValue | readonly HeaderValue[] }
    | undefined,
): { readonly [name: string]: string } {
  if (headers === undefined) return NO_HEADERS;
  let out: { [name: string]: string } | undefined;
  for (const name in headers) {
    if (!Object.prototype.hasOwnProperty.call(headers, name)) continue;
    const raw = headers[name];
    const value: HeaderValue = Array.isArray(raw)
      ? (raw as readonly HeaderValue[])[raw.length - 1]
      : (raw as HeaderValue);
    if (value === undefined || value === null) continue;
    // No prototype: a header named `__proto__` is an ordinary entry, not dropped.
    out ??= Object.create(null) as { [name: string]: string };
    out[name] = typeof value === "string" ? value : value.toString("utf8");
  }
  return out ?? NO_HEADERS;
}

/** Groups partitions by topic, the shape both drivers' pause/resume take. @internal */
export function groupByTopic(
  partitions: readonly { readonly topic: string; readonly partition: number }[],
): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) {
    const list = byTopic.get(tp.topic);
    if (list === undefined) byTopic.set(tp.topic, [tp.partition]);
    else list.push(tp.partition);
  }
  return [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps }));
}

/** Groups messages by topic, keeping their order. @internal */
export function byTopic<M extends { readonly topic: string }>(
  messages: readonly M[],
): [string, M[]][] {
  const out = new Map<string, M[]>();
  for (const m of messages) {
    const list = out.get(m.topic);
    if (list === undefined) out.set(m.topic, [m]);
    else list.push(m);
  }
  return [...out];
}

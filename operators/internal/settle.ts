import type { AckHandle } from "../record.js";
import { toSluiceError, type SluiceError } from "../sluice-error.js";

interface Carrier {
  readonly ack?: AckHandle;
  readonly record?: { readonly ack?: AckHandle };
  readonly origin?: {
    readonly topic: string;
    readonly partition: number;
    readonly offset: number;
  };
  readonly key?: string;
}

/** The ack handle an element carries: a record's own, a Late's record's, none for a watermark. */
export function handleOf(element: unknown): AckHandle | undefined {
  if (typeof element !== "object" || element === null) return undefined;
  const e = element as Carrier;
  if (e.ack !== undefined && typeof e.ack.ack === "function") return e.ack;
  const inner = e.record?.ack;
  if (inner !== undefined && typeof inner.ack === "function") return inner;
  return undefined;
}

/**
 * A user callback threw on `element`: the error as a {@link SluiceError} with the record's
 * origin and key, after nacking the element's handle (the record failed; it is not done).
 */
export function failed(element: unknown, error: unknown): SluiceError {
  const e = (
    typeof element === "object" && element !== null ? element : {}
  ) as Carrier;
  const origin = e.origin;
  const context = {
    stage: "process" as const,
    ...(origin === undefined
      ? {}
      : {
          topic: origin.topic,
          partition: origin.partition,
          offset: origin.offset,
        }),
    ...(typeof e.key === "string" ? { key: e.key } : {}),
  };
  const err = toSluiceError(error, "PROCESS", context);
  handleOf(element)?.nack(err);
  return err;
}

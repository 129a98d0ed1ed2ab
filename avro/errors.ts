/**
 * Decode failures and the `tryDecode` result. Every undecodable frame becomes a
 * `SluiceError` with code `DECODE` naming what was wrong and the first bytes in hex, so a
 * source can dead-letter it instead of crashing.
 */
import { SluiceError } from "./internal/sluice-error.js";

/**
 * How many leading bytes a decode error shows.
 *
 * @example
 * ```ts
 * hexPreview(bytes, HEX_PREVIEW_BYTES);
 * ```
 */
export const HEX_PREVIEW_BYTES = 16;

/**
 * The first bytes of a frame as spaced hex, with an ellipsis and total length when cut.
 *
 * @example
 * ```ts
 * hexPreview(Buffer.from([0xc3, 0x01])); // "c3 01"
 * ```
 */
export function hexPreview(
  bytes: Uint8Array,
  max: number = HEX_PREVIEW_BYTES,
): string {
  const shown = Buffer.from(
    bytes.buffer,
    bytes.byteOffset,
    Math.min(bytes.length, max),
  ).toString("hex");
  const spaced = shown.replace(/(..)(?!$)/g, "$1 ");
  return bytes.length > max
    ? `${spaced} … (${bytes.length} bytes)`
    : spaced || "(empty)";
}

/**
 * Builds the `DECODE` error for a frame: `"<what> (first bytes: c3 01 …)"`.
 *
 * @example
 * ```ts
 * throw decodeError("bad magic byte 0x7b, expected 0xc3 0x01", bytes);
 * ```
 */
export function decodeError(
  what: string,
  bytes: Uint8Array,
  cause?: unknown,
): SluiceError {
  return new SluiceError(
    "DECODE",
    `${what} (first bytes: ${hexPreview(bytes)})`,
    {
      retryable: false,
      context: { stage: "decode" },
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/**
 * The outcome of `tryDecode`: the value, or the `DECODE` error to dead-letter with.
 *
 * @example
 * ```ts
 * const result = codec.tryDecode(bytes);
 * if (!result.ok) deadLetter(result.error);
 * ```
 */
export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: SluiceError };

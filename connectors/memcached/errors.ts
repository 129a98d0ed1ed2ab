export { closedError } from "../internal/errors.js";
import { SluiceError } from "../../operators/sluice-error.js";

/**
 * A value in a dedupe key that this store did not write (another application shares the
 * key space): treated as a conflict rather than guessed at.
 *
 * @example
 * ```ts
 * throw foreignValue("memcached-dedupe", key);
 * ```
 */
export function foreignValue(name: string, key: string): SluiceError {
  return new SluiceError(
    "CONFLICT",
    `${name}: key ${key} holds a value this store did not write`,
    { context: { key } },
  );
}

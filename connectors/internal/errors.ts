import { SluiceError } from "../../operators/sluice-error.js";

/**
 * The error a closed source, sink or store gives to every later call.
 *
 * @example
 * ```ts
 * if (this.closed) throw closedError(this.name);
 * ```
 */
export function closedError(name: string): SluiceError {
  return new SluiceError("CLOSED", `${name} is closed`);
}

/**
 * A record a sink cannot turn into a row (a column missing from `toRow`'s result).
 *
 * @example
 * ```ts
 * throw rowError("postgres:orders", "amount", record.key);
 * ```
 */
export function rowError(
  name: string,
  column: string,
  key: string | undefined,
): SluiceError {
  return new SluiceError(
    "VALIDATE",
    `${name}: the row for key ${String(key)} has no value for column ${column}`,
    {
      context: {
        field: column,
        stage: "sink",
        ...(key !== undefined ? { key } : {}),
      },
    },
  );
}

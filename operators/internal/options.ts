import { SluiceError } from "../sluice-error.js";

/** Checks a count option, naming the field when it is wrong. */
export function positiveInteger(
  operator: string,
  field: string,
  value: number,
): number {
  if (!Number.isInteger(value) || value < 1)
    throw new SluiceError(
      "CONFIG",
      `${operator}.${field} must be a positive integer, got ${value}`,
    );
  return value;
}

/** Checks a duration or rate option, naming the field when it is wrong. */
export function positiveNumber(
  operator: string,
  field: string,
  value: number,
): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new SluiceError(
      "CONFIG",
      `${operator}.${field} must be a positive number, got ${value}`,
    );
  return value;
}

/** Checks a ratio option in [0, 1]. */
export function ratio(operator: string, field: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1)
    throw new SluiceError(
      "CONFIG",
      `${operator}.${field} must be between 0 and 1, got ${value}`,
    );
  return value;
}

/**
 * The one place avro/ reaches outside itself for Sluice code: `SluiceError` (the shared error
 * type with its closed code set). Keeping the edge here makes it a single, visible exception
 * to the "avro imports only avsc" layering rule.
 */
export { SluiceError } from "../../operators/sluice-error.js";
export type { SluiceErrorCode } from "../../operators/sluice-error.js";

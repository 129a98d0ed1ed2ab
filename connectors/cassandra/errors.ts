// The errors every connector shares; see connectors/internal/errors.ts.
export { closedError, rowError } from "../internal/errors.js";

// Public exports of the connector conformance suites (STYLE.md habits 8 and 11).
export { sourceConformance } from "./conformance.js";
export { intakeConformance } from "./intake-conformance.js";
export { sinkConformance } from "./sink-conformance.js";
export { waitFor } from "./helpers.js";
export type {
  ConformanceOptions,
  ConformanceSourceOptions,
  SinkHarness,
  SourceHarness,
  TestRecord,
} from "./harness.js";

// Public exports of the connector conformance suites (STYLE.md habits 8 and 11).
export { sinkConformance, sourceConformance, waitFor } from "./conformance.js";
export type {
  ConformanceOptions,
  ConformanceSourceOptions,
  SinkHarness,
  SourceHarness,
  TestRecord,
} from "./conformance.js";

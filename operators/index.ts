// The public surface of the operator library, listed one by one (STYLE.md habit 8).
// operators/index.test.ts fails when an operator module exports something missing here.

export { ackAfter } from "./ack-after.js";
export type { AckAfterOptions } from "./ack-after.js";
export { counter, reducer } from "./aggregate.js";
export type { Aggregate, MergeableAggregate } from "./aggregate.js";
export { CommitTracker } from "./commit-tracker.js";
export type {
  CommitTrackerSnapshot,
  NackListener,
  OffsetRange,
} from "./commit-tracker.js";
export { compositeAck } from "./composite-ack.js";
export {
  BadRecordCounters,
  BadRecordPolicy,
  deadLetter,
  deadLetterReason,
} from "./dead-letter.js";
export type {
  DeadLetter,
  DeadLetterOperator,
  DeadLetterOptions,
  DeadLetterReason,
} from "./dead-letter.js";
export { DedupeCounters, dedupe } from "./dedupe.js";
export type {
  ClaimResult,
  DedupeOperator,
  DedupeOptions,
  DedupeStore,
} from "./dedupe.js";
export { isLate, isRecord, isWatermark, late, watermark } from "./element.js";
export type { Element, Late, Watermark } from "./element.js";
export { enrich } from "./enrich.js";
export type { EnrichOptions } from "./enrich.js";
export { filterAck } from "./filter-ack.js";
export { flatMapAck } from "./flat-map-ack.js";
export { keyOrderedMap } from "./key-ordered-map.js";
export type { KeyOrderedMapOptions } from "./key-ordered-map.js";
export { keyedProcess } from "./keyed-process.js";
export type {
  KeyedContext,
  KeyedProcessOptions,
  Outputs,
  TimerContext,
  TimerService,
} from "./keyed-process.js";
export { mapState, valueState } from "./keyed-state.js";
export type {
  MapState,
  MapStateDescriptor,
  StateOptions,
  ValueState,
  ValueStateDescriptor,
} from "./keyed-state.js";
export { memoryDedupeStore } from "./memory-dedupe-store.js";
export type {
  MemoryDedupeStore,
  MemoryDedupeStoreOptions,
} from "./memory-dedupe-store.js";
export { memoryStateBackend } from "./memory-state-backend.js";
export type { Failed, Outcome, Succeeded } from "./outcome.js";
export { parkingLot } from "./parking-lot.js";
export { linkedOrigins, ownerOf } from "./partition-owner.js";
export type {
  OwnedPartition,
  OwnershipEvent,
  PartitionOwner,
} from "./partition-owner.js";
export type { ParkingLotOptions } from "./parking-lot.js";
export { PressureGauge, pressureGauge } from "./pressure-gauge.js";
export type { PressureGaugeOptions, PressureSignal } from "./pressure-gauge.js";
export { rateLimit } from "./rate-limit.js";
export type { RateLimitOptions } from "./rate-limit.js";
export { NO_ACK, derive, record } from "./record.js";
export type {
  AckHandle,
  Headers,
  Origin,
  Record,
  RecordInit,
} from "./record.js";
export { RetryBudget, retryBudget } from "./retry-budget.js";
export type { RetryBudgetOptions } from "./retry-budget.js";
export { retryWithBackoff } from "./retry-with-backoff.js";
export type { Jitter, RetryWithBackoffOptions } from "./retry-with-backoff.js";
export { branch, route } from "./route.js";
export type { RouteBranch } from "./route.js";
export { routeLate } from "./route-late.js";
export { sessionWindow } from "./session-window.js";
export type { SessionWindowOptions } from "./session-window.js";
export { SlidingWindowCounters, slidingWindow } from "./sliding-window.js";
export type {
  SlidingWindowOperator,
  SlidingWindowOptions,
} from "./sliding-window.js";
export { SluiceError, toSluiceError } from "./sluice-error.js";
export type { ErrorContext, SluiceErrorCode, Stage } from "./sluice-error.js";
export { statePartitionOf } from "./state-backend.js";
export type {
  PartitionSnapshot,
  StateBackend,
  StateSnapshot,
  StoredEntry,
  TimerDomain,
  TimerEntry,
} from "./state-backend.js";
export { tee } from "./tee.js";
export { TokenBucket } from "./token-bucket.js";
export type { TokenBucketOptions } from "./token-bucket.js";
export { tumblingWindow } from "./tumbling-window.js";
export type { TumblingWindowOptions, WindowOutput } from "./tumbling-window.js";
export type { Firing, WindowOptions, WindowResult } from "./window-result.js";
export { withWatermarks } from "./with-watermarks.js";
export type { WithWatermarksOptions } from "./with-watermarks.js";

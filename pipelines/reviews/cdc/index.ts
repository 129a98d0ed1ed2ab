// Public exports of the reviews CDC relay, listed one by one (STYLE.md habit 8).
export {
  SEGMENT_END_OFFSET,
  comparePositions,
  isAfter,
} from "./change-feed.js";
export type {
  ChangeEvent,
  ChangeFeed,
  ChangeOp,
  ChangePosition,
  FeedItem,
  SegmentEnd,
} from "./change-feed.js";
export { MemoryChangeFeed, memoryChangeFeed } from "./memory-change-feed.js";
export type {
  CapturedWrite,
  MemoryChangeFeedOptions,
} from "./memory-change-feed.js";
export {
  CassandraChangeFeed,
  cassandraChangeFeed,
} from "./cassandra-change-feed.js";
export type { CassandraChangeFeedOptions } from "./cassandra-change-feed.js";
export { buildReader, readerPaths } from "./reader-build.js";
export type { BuiltReader, ReaderPaths } from "./reader-build.js";
export { filePositionStore, memoryPositionStore } from "./position-store.js";
export type { PositionStore } from "./position-store.js";
export { changeEventId } from "./event-id.js";
export { cdcRelay } from "./relay.js";
export type {
  CdcRelay,
  CdcRelayOptions,
  CdcRelayStats,
  ReviewEventValue,
} from "./relay.js";

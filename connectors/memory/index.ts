// Public exports of the memory connector, listed one by one (STYLE.md habit 8).
export { MemoryLog } from "./log.js";
export type {
  AppendInit,
  GroupMemberListener,
  GroupMembership,
  LogRecord,
  MemoryLogOptions,
} from "./log.js";
export { MemorySource, memorySource } from "./source.js";
export { MemorySink, memorySink } from "./sink.js";
export {
  resolveMemorySinkOptions,
  resolveMemorySourceOptions,
} from "./options.js";
export type {
  MemorySinkOptions,
  MemorySourceOptions,
  ResolvedMemorySinkOptions,
  ResolvedMemorySourceOptions,
} from "./options.js";
export { murmur2, partitionForKey } from "./partitioner.js";
export { assign } from "./assignor.js";
export type { AssignmentStrategy, AssignorMember } from "./assignor.js";
export {
  closedError,
  commitRejected,
  memberCrashed,
  topicNotFound,
} from "./errors.js";

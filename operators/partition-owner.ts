import type { Observable } from "rxjs";
import type { Origin } from "./record.js";

/** A partition of a topic, as a {@link PartitionOwner} names it. */
export interface OwnedPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A change of the partitions a source owns (a consumer-group rebalance). */
export interface OwnershipEvent {
  readonly type: "assigned" | "revoked";
  readonly partitions: readonly OwnedPartition[];
}

/**
 * What a source tells the operators downstream about the partitions it owns. Every
 * `Source` satisfies it; the memory and Kafka sources link each record's origin to it
 * (see {@link ownerOf}), so `withWatermarks` knows the partitions that have sent nothing yet.
 *
 * @example
 * ```ts
 * ownerOf(r.origin)?.assignments().subscribe((e) => console.log(e.type, e.partitions));
 * ```
 */
export interface PartitionOwner {
  /**
   * On subscription, the partitions owned now as one `assigned` event (none when nothing is
   * owned), then every assignment and revocation.
   */
  assignments(): Observable<OwnershipEvent>;
  /**
   * Whether every record of an owned partition that can be read has been emitted
   * (`false`: a backlog is waiting); `undefined` when the source does not know.
   */
  isCaughtUp?(partition: OwnedPartition): boolean | undefined;
}

const OWNER: unique symbol = Symbol("sluice.partitionOwner");

interface LinkedOrigin extends Origin {
  readonly [OWNER]: PartitionOwner;
}

/**
 * Builds origins that link back to the source that owns their partition: one class per
 * source whose prototype holds the link, so an origin costs what an object literal costs
 * and carries only `topic`, `partition` and `offset` as its own fields (it serialises and
 * compares as before).
 *
 * @example
 * ```ts
 * const originOf = linkedOrigins(this); // in a source's constructor
 * record({ value, timestamp, origin: originOf(topic, partition, offset) });
 * ```
 */
export function linkedOrigins(
  owner: PartitionOwner,
): (topic: string, partition: number, offset: number) => Origin {
  class SourceOrigin implements Origin {
    constructor(
      readonly topic: string,
      readonly partition: number,
      readonly offset: number,
    ) {}
  }
  Object.defineProperty(SourceOrigin.prototype, OWNER, { value: owner });
  return (topic, partition, offset) =>
    new SourceOrigin(topic, partition, offset);
}

/**
 * The source that owns a record's partition, when its origin was built by
 * {@link linkedOrigins}; `undefined` otherwise (records made by hand, or copied origins).
 *
 * @example
 * ```ts
 * const owner = ownerOf(r.origin);
 * ```
 */
export function ownerOf(
  origin: Origin | undefined,
): PartitionOwner | undefined {
  return origin === undefined
    ? undefined
    : (origin as Partial<LinkedOrigin>)[OWNER];
}

/**
 * The map key of a topic-partition inside a source (NUL cannot occur in a topic name).
 * @internal
 */
export const tpKey = (topic: string, partition: number): string =>
  `${topic}\u0000${partition}`;

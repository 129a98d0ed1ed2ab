/**
 * The writes a sink has in flight, so `flush()` and `close()` can wait for them. A write's
 * failure still reaches its own caller; waiting never throws.
 */
export class PendingWrites {
  private readonly pending = new Set<Promise<void>>();

  /** Tracks `write` until it settles and returns it unchanged. */
  track(write: Promise<void>): Promise<void> {
    this.pending.add(write);
    const done = (): void => {
      this.pending.delete(write);
    };
    write.then(done, done);
    return write;
  }

  /** Resolves once every write tracked so far has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}

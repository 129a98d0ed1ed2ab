/**
 * Waits of a source for a condition on its in-flight records (drained, room again),
 * re-checked whenever {@link SettleWaiters.wake} is called and bounded by a timer.
 * @internal
 */
export class SettleWaiters {
  private readonly waiters = new Set<() => void>();

  /** Re-checks every pending wait; call after every settle and state change. */
  wake(): void {
    // Called on every settle: no copy (no allocation) while nothing waits.
    if (this.waiters.size === 0) return;
    for (const waiter of [...this.waiters]) waiter();
  }

  /**
   * Resolves when `done()` holds (now or at a later {@link wake}) or when the timer that
   * `startTimer(fire)` starts fires; `startTimer` returns how to cancel that timer.
   */
  until(
    done: () => boolean,
    startTimer: (fire: () => void) => () => void,
  ): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let finished = false;
      // Replaced below; a timer may fire before startTimer returns.
      let cancel = (): void => undefined;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        this.waiters.delete(check);
        cancel();
        resolve();
      };
      const check = (): void => {
        if (done()) finish();
      };
      this.waiters.add(check);
      cancel = startTimer(finish);
    });
  }
}

/** A dependency the process is waiting on (a broker, a database, a cache) while it retries. */
export interface Outage {
  /** What is waited on, e.g. `postgres checkpoint save` or `kafka consumer group orders`. */
  readonly what: string;
  /** When the first failure of this wait was seen (epoch ms). */
  readonly since: number;
  /** Attempts that failed so far. */
  readonly attempts: number;
  /** The last error's message. */
  readonly lastError: string;
}

/** A change of the set of outages: one began (`down`), ended (`up`) or was given up on. */
export interface OutageEvent {
  readonly type: "down" | "up" | "gave-up";
  readonly outage: Outage;
}

/** The handle of one wait: report each failure, end it once the call succeeds or gives up. */
export interface OutageHandle {
  failed(error: unknown): void;
  end(outcome: "up" | "gave-up"): void;
}

/**
 * The process-wide set of dependencies being waited on. Connectors report a wait when a call
 * fails with an outage-class error and they retry it (`connectors/internal/retry.ts` does it
 * for every caller); the runtime reads it for readiness (`/readyz` is false while anything is
 * waited on) and logs each change.
 * @internal
 */
export class Outages {
  private readonly open = new Map<object, Outage>();
  private readonly listeners = new Set<(event: OutageEvent) => void>();

  /** Starts a wait after its first failure. */
  begin(what: string, error: unknown): OutageHandle {
    const key = {};
    let outage: Outage = {
      what,
      since: Date.now(),
      attempts: 1,
      lastError: messageOf(error),
    };
    this.open.set(key, outage);
    this.emit({ type: "down", outage });
    return {
      failed: (e) => {
        if (!this.open.has(key)) return;
        outage = {
          ...outage,
          attempts: outage.attempts + 1,
          lastError: messageOf(e),
        };
        this.open.set(key, outage);
      },
      end: (outcome) => {
        if (!this.open.delete(key)) return;
        this.emit({ type: outcome, outage });
      },
    };
  }

  /** The waits in progress, oldest first. */
  current(): readonly Outage[] {
    return [...this.open.values()].sort((a, b) => a.since - b.since);
  }

  /** Calls `listener` on every change; returns how to stop. */
  subscribe(listener: (event: OutageEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: OutageEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // a listener's failure must not break the connector that reported
      }
    }
  }
}

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** The one registry of this process. @internal */
export const outages = new Outages();

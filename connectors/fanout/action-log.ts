import { createHash } from "node:crypto";
import { SluiceError } from "../../operators/sluice-error.js";
import { closedError } from "../internal/errors.js";

/** What identifies one send: the firing, the recipient and the action (e.g. `email`, `whatsapp`). */
export interface ActionKey {
  readonly firingId: string;
  readonly recipient: string;
  readonly action: string;
}

/**
 * Where an action stands.
 *
 * - `planned`: written before the send; no attempt has started, so sending is safe.
 * - `sending`: an attempt started (the provider may have received it); without `confirm`
 *   or `fail` its outcome is unknown.
 * - `sent`: the provider accepted it (confirmed).
 * - `failed`: the provider refused it, or retries ran out; dead-lettered with the reason.
 * - `unknown`: an attempt's outcome could not be established; dead-lettered for a human,
 *   never re-sent automatically.
 */
export type ActionState = "planned" | "sending" | "sent" | "failed" | "unknown";

/** One action log row. */
export interface ActionEntry extends ActionKey {
  /** {@link idempotencyKey} of the key. */
  readonly key: string;
  readonly provider: string;
  readonly state: ActionState;
  /** Attempts started (the `sending` transitions). */
  readonly attempts: number;
  /** The provider's id of the accepted message (SMTP Message-ID, WhatsApp `wamid`). */
  readonly providerId: string | undefined;
  /** Why it failed or is unknown. */
  readonly reason: string | undefined;
  readonly plannedAt: number;
  readonly updatedAt: number;
  /** While `sending`: the attempt's lease ends here; until then another worker must not touch it. */
  readonly leaseUntil: number | undefined;
}

/**
 * What {@link ActionLog.plan} found.
 *
 * - `new`: first time; the row is now `planned`.
 * - `planned`: planned before, never attempted (a crash between plan and send): send.
 * - `unconfirmed`: an attempt started and its lease expired without confirm or fail (a
 *   crash between send and confirm): the outcome is unknown; resolve it before sending.
 * - `in-progress`: another worker's attempt holds a live lease: do not send now.
 * - `sent`: done already: never send again.
 * - `failed`: an earlier run failed (dead-lettered); a new run may try again.
 * - `unknown`: an earlier run could not establish the outcome (dead-lettered): not sent again.
 */
export type PlanStatus =
  | "new"
  | "planned"
  | "unconfirmed"
  | "in-progress"
  | "sent"
  | "failed"
  | "unknown";

/** The answer of {@link ActionLog.plan}. */
export interface PlanResult {
  readonly status: PlanStatus;
  readonly entry: ActionEntry;
}

/**
 * The action log: an idempotency key per (firing, recipient, action), written before the
 * send (`plan`), moved to `sending` just before the provider call (`attempt`, with a lease),
 * and `confirm`ed or `fail`ed after it. With it a crash or a retry never sends twice and
 * never silently skips: see `deliverOnce` and DESIGN.md "A send whose outcome is unknown".
 *
 * @example
 * ```ts
 * const p = await log.plan(key, "smtp", now);
 * if (p.status === "new" || p.status === "planned") {
 *   if (await log.attempt(key, now, 60_000)) { const id = await send(); await log.confirm(key, id, clock.now()); }
 * }
 * ```
 */
export interface ActionLog {
  readonly name: string;
  /** Records the intent (idempotent); see {@link PlanStatus}. Many keys at once with {@link planMany}. */
  plan(key: ActionKey, provider: string, atMs: number): Promise<PlanResult>;
  /** Plans many keys in one round trip; results in input order. */
  planMany(
    keys: readonly ActionKey[],
    provider: string,
    atMs: number,
  ): Promise<readonly PlanResult[]>;
  /**
   * Starts an attempt: `planned`, `failed` or an expired `sending` becomes `sending` until
   * `atMs + leaseMs` (attempts + 1). False when the row is `sent`, `unknown`, or `sending`
   * under a live lease (someone else is sending).
   */
  attempt(key: ActionKey, atMs: number, leaseMs: number): Promise<boolean>;
  /** The provider accepted the send. */
  confirm(
    key: ActionKey,
    providerId: string | undefined,
    atMs: number,
  ): Promise<void>;
  /** The send failed for good (or its outcome is unknown): `failed` or `unknown`, with the reason. */
  fail(
    key: ActionKey,
    reason: string,
    atMs: number,
    state?: "failed" | "unknown",
  ): Promise<void>;
  get(key: ActionKey): Promise<ActionEntry | undefined>;
  /** Rows of one firing (reports, tests; keep firings small or page elsewhere). */
  listFiring(firingId: string): Promise<readonly ActionEntry[]>;
  close(): Promise<void>;
}

/**
 * The idempotency key of an action: `${firingId}/${action}/${recipient}`, readable and
 * unique; a provider that takes an idempotency key gets it hashed with {@link keyDigest}.
 *
 * @example
 * ```ts
 * idempotencyKey({ firingId: "promo@2026-11-21T17:01:00.000Z", recipient: "u-1", action: "email" });
 * ```
 */
export function idempotencyKey(key: ActionKey): string {
  return `${key.firingId}/${key.action}/${key.recipient}`;
}

/**
 * A 32-hex-digit SHA-256 digest of the idempotency key: fits Message-ID local parts and
 * provider idempotency headers.
 *
 * @example
 * ```ts
 * const messageId = `<${keyDigest(key)}@sluice.local>`;
 * ```
 */
export function keyDigest(key: ActionKey): string {
  return createHash("sha256")
    .update(idempotencyKey(key))
    .digest("hex")
    .slice(0, 32);
}

/** The row `plan` inserts for a key not seen before (both logs build it the same way). */
export function plannedEntry(
  key: ActionKey,
  provider: string,
  atMs: number,
): ActionEntry {
  return {
    ...key,
    key: idempotencyKey(key),
    provider,
    state: "planned",
    attempts: 0,
    providerId: undefined,
    reason: undefined,
    plannedAt: atMs,
    updatedAt: atMs,
    leaseUntil: undefined,
  };
}

/** Derives the plan status from an existing row. */
export function planStatusOf(entry: ActionEntry, atMs: number): PlanStatus {
  switch (entry.state) {
    case "planned":
      return "planned";
    case "sending":
      return entry.leaseUntil !== undefined && entry.leaseUntil > atMs
        ? "in-progress"
        : "unconfirmed";
    case "sent":
      return "sent";
    case "failed":
      return "failed";
    case "unknown":
      return "unknown";
  }
}

/**
 * An in-process {@link ActionLog}: the embedded default and the unit tests' log.
 *
 * @example
 * ```ts
 * const log = memoryActionLog();
 * ```
 */
export function memoryActionLog(): ActionLog {
  const rows = new Map<string, ActionEntry>();
  let closed = false;
  const name = "memory-action-log";
  const check = (): void => {
    if (closed) throw closedError(name);
  };
  const update = (
    key: ActionKey,
    change: (e: ActionEntry) => ActionEntry | undefined,
  ): boolean => {
    const k = idempotencyKey(key);
    const e = rows.get(k);
    if (e === undefined)
      throw new SluiceError(
        "NOT_FOUND",
        `${name}: no action planned for ${k} (plan before attempt/confirm/fail)`,
      );
    const next = change(e);
    if (next === undefined) return false;
    rows.set(k, next);
    return true;
  };
  const planOne = (
    key: ActionKey,
    provider: string,
    atMs: number,
  ): PlanResult => {
    const k = idempotencyKey(key);
    const e = rows.get(k);
    if (e !== undefined) return { status: planStatusOf(e, atMs), entry: e };
    const entry = plannedEntry(key, provider, atMs);
    rows.set(k, entry);
    return { status: "new", entry };
  };
  const log: ActionLog = {
    name,
    plan(key, provider, atMs) {
      check();
      return Promise.resolve(planOne(key, provider, atMs));
    },
    planMany(keys, provider, atMs) {
      check();
      // A key twice in one batch gets one answer, as one statement would give it.
      const once = new Map<string, PlanResult>();
      return Promise.resolve(
        keys.map((k) => {
          const id = idempotencyKey(k);
          let r = once.get(id);
          if (r === undefined) once.set(id, (r = planOne(k, provider, atMs)));
          return r;
        }),
      );
    },
    attempt(key, atMs, leaseMs) {
      check();
      return Promise.resolve(
        update(key, (e) => {
          const ok =
            e.state === "planned" ||
            e.state === "failed" ||
            (e.state === "sending" && (e.leaseUntil ?? 0) <= atMs);
          return ok
            ? {
                ...e,
                state: "sending",
                attempts: e.attempts + 1,
                leaseUntil: atMs + leaseMs,
                updatedAt: atMs,
              }
            : undefined;
        }),
      );
    },
    confirm(key, providerId, atMs) {
      check();
      update(key, (e) => ({
        ...e,
        state: "sent",
        providerId,
        reason: undefined,
        leaseUntil: undefined,
        updatedAt: atMs,
      }));
      return Promise.resolve();
    },
    fail(key, reason, atMs, state = "failed") {
      check();
      update(key, (e) =>
        e.state === "sent"
          ? undefined
          : { ...e, state, reason, leaseUntil: undefined, updatedAt: atMs },
      );
      return Promise.resolve();
    },
    get(key) {
      check();
      return Promise.resolve(rows.get(idempotencyKey(key)));
    },
    listFiring(firingId) {
      check();
      return Promise.resolve(
        [...rows.values()]
          .filter((e) => e.firingId === firingId)
          .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      );
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  }; // Every failure (closed, not planned) comes back as a rejected promise, never a throw.
  return asyncErrors(log);
}

function asyncErrors(log: ActionLog): ActionLog {
  const wrap =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> => {
      try {
        return fn(...a);
      } catch (error) {
        return Promise.reject(
          error instanceof Error ? error : new Error(String(error)),
        );
      }
    };
  return {
    name: log.name,
    plan: wrap(log.plan.bind(log)),
    planMany: wrap(log.planMany.bind(log)),
    attempt: wrap(log.attempt.bind(log)),
    confirm: wrap(log.confirm.bind(log)),
    fail: wrap(log.fail.bind(log)),
    get: wrap(log.get.bind(log)),
    listFiring: wrap(log.listFiring.bind(log)),
    close: wrap(log.close.bind(log)),
  };
}

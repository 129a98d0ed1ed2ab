import {
  connect,
  filter,
  finalize,
  interval,
  map,
  merge,
  Subject,
  takeUntil,
  type Observable,
} from "rxjs";
import { memoryStateBackend } from "../../operators/memory-state-backend.js";
import {
  keyedProcess,
  type KeyedContext,
} from "../../operators/keyed-process.js";
import { valueState } from "../../operators/keyed-state.js";
import { BadRecordCounters } from "../../operators/dead-letter.js";
import { derive, record, type Record } from "../../operators/record.js";
import type { OutgoingRecord, Sink } from "../../connectors/types.js";
import { writeTo } from "../../connectors/write-to.js";
import type { EshopBus, EshopWiring } from "./bus.js";
import {
  eventId,
  PRIORITY_HEADER,
  type AnyEvent,
  type EshopEvents,
  type EventName,
  type OrderStatus,
  type OrderStockItem,
} from "./events.js";
import {
  decodeRecords,
  ORIGIN_TOPIC_HEADER,
  publishRecord,
  publishSink,
  publishTo,
  rawBytes,
  toDeadLetters,
  type Published,
} from "./plumbing.js";
import type { OrderView, OrderViews } from "./stores.js";

/** The per-order state of the Ordering state machine (JSON, checkpointed with the offsets). */
export interface OrderState {
  readonly orderId: number;
  readonly status: OrderStatus;
  readonly buyer: string;
  readonly userId: string;
  readonly priority: boolean;
  readonly items: readonly OrderStockItem[];
  readonly submittedAt: number;
  readonly version: number;
  readonly note: string | null;
  /** When the grace-period timer is due (timer mode), while Submitted. */
  readonly graceDueAt: number | null;
}

/** What one input did to an order: the new state (if changed) and the events to publish. */
export interface Transition {
  readonly state: OrderState | undefined;
  readonly publish: readonly {
    readonly type: EventName;
    readonly event: EshopEvents[EventName];
  }[];
  /** Processing-time timer to register (grace period), if any. */
  readonly timerAt?: number;
  /** A refused input (wrong state): kept in the view's note, nothing published. */
  readonly refused?: string;
}

/** How Ordering runs the grace period. */
export interface GraceOptions {
  /** `timer`: a checkpointed per-order timer; `task`: the separate grace-period task publishes. */
  readonly mode: "timer" | "task";
  readonly graceMs: number;
  /** Grace period of priority orders (the priority handler path). */
  readonly priorityGraceMs: number;
  /** After publishing GracePeriodConfirmed, publish again if it has not come back by then. */
  readonly retryMs: number;
}

const statusEvent = (
  s: OrderState,
  status: OrderStatus,
  now: number,
  withItems = false,
): EshopEvents["OrderStatusChangedToPaidIntegrationEvent"] => ({
  id: eventId(s.orderId, status),
  creationDate: new Date(now),
  orderId: s.orderId,
  orderStatus: status,
  buyerName: s.buyer,
  orderStockItems: withItems ? s.items : [],
});

function moved(
  s: OrderState,
  status: OrderStatus,
  now: number,
  note: string | null = s.note,
): OrderState {
  return { ...s, status, version: s.version + 1, note, graceDueAt: null };
}

const NOTHING: Transition = { state: undefined, publish: [] };

/**
 * The Ordering state machine of seeds/003 as a pure function: submitted → awaiting
 * validation → stock confirmed → paid → shipped, or cancelled. Inputs that do not fit the
 * current state (redeliveries, a late grace period after a cancel) change nothing.
 */
export function transition(
  state: OrderState | undefined,
  input: AnyEvent | { readonly type: "GraceTimer" },
  now: number,
  grace: GraceOptions,
  priority: boolean,
): Transition {
  if (input.type === "UserCheckoutAcceptedIntegrationEvent") {
    if (state !== undefined) return NOTHING;
    const e = input.event;
    const items = e.basket.items.map((i) => ({
      productId: i.productId,
      units: i.quantity,
    }));
    const submitted: OrderState = {
      orderId: e.orderNumber,
      status: "Submitted",
      buyer: e.buyer,
      userId: e.userId,
      priority,
      items,
      submittedAt: now,
      version: 1,
      note: null,
      graceDueAt:
        grace.mode === "timer"
          ? now + (priority ? grace.priorityGraceMs : grace.graceMs)
          : null,
    };
    return {
      state: submitted,
      publish: [
        {
          type: "OrderStartedIntegrationEvent",
          event: {
            id: eventId(submitted.orderId, "started"),
            creationDate: new Date(now),
            userId: e.userId,
          },
        },
        {
          type: "OrderStatusChangedToSubmittedIntegrationEvent",
          event: statusEvent(submitted, "Submitted", now),
        },
      ],
      ...(submitted.graceDueAt !== null
        ? { timerAt: submitted.graceDueAt }
        : {}),
    };
  }
  if (state === undefined) return NOTHING; // an event for an order this instance never saw
  const s = state;
  switch (input.type) {
    case "GraceTimer": {
      if (s.status !== "Submitted" || s.graceDueAt === null) return NOTHING;
      const due = now + grace.retryMs;
      return {
        state: { ...s, graceDueAt: due },
        publish: [
          {
            type: "GracePeriodConfirmedIntegrationEvent",
            event: {
              id: eventId(s.orderId, "grace"),
              creationDate: new Date(now),
              orderId: s.orderId,
            },
          },
        ],
        timerAt: due,
      };
    }
    case "GracePeriodConfirmedIntegrationEvent": {
      if (s.status !== "Submitted") return NOTHING;
      const next = moved(s, "AwaitingValidation", now);
      return {
        state: next,
        publish: [
          {
            type: "OrderStatusChangedToAwaitingValidationIntegrationEvent",
            event: statusEvent(next, "AwaitingValidation", now, true),
          },
        ],
      };
    }
    case "OrderStockConfirmedIntegrationEvent": {
      if (s.status !== "AwaitingValidation") return NOTHING;
      const next = moved(s, "StockConfirmed", now);
      const { orderStockItems: _, ...event } = statusEvent(
        next,
        "StockConfirmed",
        now,
      );
      return {
        state: next,
        publish: [
          { type: "OrderStatusChangedToStockConfirmedIntegrationEvent", event },
        ],
      };
    }
    case "OrderStockRejectedIntegrationEvent":
    case "OrderPaymentFailedIntegrationEvent": {
      const expected =
        input.type === "OrderStockRejectedIntegrationEvent"
          ? "AwaitingValidation"
          : "StockConfirmed";
      if (s.status !== expected) return NOTHING;
      const why =
        input.type === "OrderStockRejectedIntegrationEvent"
          ? `stock rejected for products ${input.event.orderStockItems
              .filter((i) => !i.hasStock)
              .map((i) => i.productId)
              .join(", ")}`
          : "payment failed";
      return cancelled(s, now, why);
    }
    case "OrderPaymentSucceededIntegrationEvent": {
      if (s.status !== "StockConfirmed") return NOTHING;
      const next = moved(s, "Paid", now);
      return {
        state: next,
        publish: [
          {
            type: "OrderStatusChangedToPaidIntegrationEvent",
            event: statusEvent(next, "Paid", now, true),
          },
        ],
      };
    }
    case "OrderCommand": {
      if (input.event.action === "Ship") {
        if (s.status === "Shipped") return NOTHING;
        if (s.status !== "Paid")
          return refuse(s, `cannot ship an order that is ${s.status}`);
        const next = moved(s, "Shipped", now);
        const { orderStockItems: _, ...event } = statusEvent(
          next,
          "Shipped",
          now,
        );
        return {
          state: next,
          publish: [
            { type: "OrderStatusChangedToShippedIntegrationEvent", event },
          ],
        };
      }
      if (s.status === "Cancelled") return NOTHING;
      if (s.status === "Paid" || s.status === "Shipped")
        return refuse(s, `cannot cancel an order that is ${s.status}`);
      return cancelled(s, now, "cancelled by the buyer");
    }
    default:
      return NOTHING;
  }
}

function cancelled(s: OrderState, now: number, why: string): Transition {
  const next = moved(s, "Cancelled", now, why);
  const { orderStockItems: _, ...event } = statusEvent(next, "Cancelled", now);
  return {
    state: next,
    publish: [{ type: "OrderStatusChangedToCancelledIntegrationEvent", event }],
  };
}

function refuse(s: OrderState, why: string): Transition {
  return {
    state: { ...s, version: s.version + 1, note: why },
    publish: [],
    refused: why,
  };
}

/** The view of an order state. */
export function viewOf(s: OrderState, now: number): OrderView {
  return {
    orderId: s.orderId,
    status: s.status,
    buyer: s.buyer,
    priority: s.priority,
    items: s.items,
    submittedAt: s.submittedAt,
    updatedAt: now,
    version: s.version,
    note: s.note,
  };
}

const ORDER = valueState<OrderState>("order");
const TICK_KEY = "\u0000tick";

type MachineInput = Buffer | "tick";
type MachineOutput =
  | { readonly kind: "publish"; readonly published: Published }
  | { readonly kind: "view"; readonly view: OrderView };

/** Options of {@link startOrdering}. */
export interface OrderingOptions {
  readonly bus: EshopBus;
  readonly views: OrderViews;
  readonly grace: GraceOptions;
  /** Consumer groups: `<groupPrefix>ordering` and `<groupPrefix>ordering-relay`. */
  readonly groupPrefix?: string;
  /** Member id suffix (two instances in one group). */
  readonly clientId?: string;
  /** How often restored timers are looked at (a restore does not wake the timer service). */
  readonly tickMs?: number;
}

/** A running service: `done` resolves when its sources are closed. */
export interface RunningService {
  readonly done: Promise<void>;
  readonly badRecords: BadRecordCounters;
  /** Partitions of its main input this instance owns now (consumer-group share). */
  readonly owned?: () => number;
}

/** A sink writing order views (idempotent: a view only replaces a lower version). */
export function viewSink(views: OrderViews): Sink<OrderView> {
  return {
    name: "eshop:order-views",
    maxInFlight: 1,
    connect: () => Promise.resolve(),
    write: (batch: readonly OutgoingRecord<OrderView>[]) =>
      views.upsert(batch.map((o) => o.value)),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/**
 * Starts Ordering: a relay that repartitions its five input topics (order-checkouts,
 * grace-period-confirmed, order-stock-statuses, payment-status, order-commands) into
 * `ordering-inbox` by order id, and the keyed state machine on the inbox, whose state and
 * grace-period timers are checkpointed with the inbox offsets.
 */
export function startOrdering(
  w: EshopWiring,
  o: OrderingOptions,
): RunningService {
  const { bus } = o;
  const prefix = o.groupPrefix ?? "";
  const clientOpt = o.clientId !== undefined ? { clientId: o.clientId } : {};
  const sink = w.addSink(publishSink(bus.sink()));

  // Relay: inputs → ordering-inbox, same key, bytes untouched.
  const relaySource = w.addSource(
    bus.source(
      `${prefix}ordering-relay`,
      [
        "order-checkouts",
        "grace-period-confirmed",
        "order-stock-statuses",
        "payment-status",
        "order-commands",
      ],
      clientOpt,
    ),
  );
  const relayed = relaySource.records().pipe(
    map((r) =>
      derive(
        r,
        {
          topic: bus.topic("ordering-inbox"),
          bytes: r.value,
        } satisfies Published,
        {
          headers: {
            ...r.headers,
            [ORIGIN_TOPIC_HEADER]: bus.logical(r.origin?.topic ?? "") ?? "",
          },
        },
      ),
    ),
    publishTo(sink),
  );

  // The state machine.
  const backend = memoryStateBackend();
  const source = w.addSource(
    bus.source(`${prefix}ordering`, ["ordering-inbox"], clientOpt),
    { state: backend },
  );
  const badRecords = new BadRecordCounters();
  const owned = new Set<string>();
  const ownership = source.assignments().subscribe((e) => {
    for (const tp of e.partitions)
      if (e.type === "assigned") owned.add(`${tp.topic}/${tp.partition}`);
      else owned.delete(`${tp.topic}/${tp.partition}`);
  });
  w.onShutdown(() => ownership.unsubscribe());
  const stop = new Subject<void>();
  const tickMs = o.tickMs ?? 500;
  const input: Observable<Record<MachineInput>> = merge(
    source.records().pipe(finalize(() => (stop.next(), stop.complete()))),
    interval(tickMs).pipe(
      takeUntil(stop),
      map(() =>
        record<MachineInput>({
          key: TICK_KEY,
          value: "tick",
          timestamp: Date.now(),
        }),
      ),
    ),
  );
  const views = w.addSink(viewSink(o.views));

  const emit = (
    r: Record<unknown> | undefined,
    ctx: KeyedContext,
    t: Transition,
  ): Record<MachineOutput>[] => {
    const out: Record<MachineOutput>[] = [];
    const now = ctx.now();
    if (t.state !== undefined) ctx.state(ORDER).update(t.state);
    if (t.timerAt !== undefined) ctx.timers.registerProcessingTime(t.timerAt);
    const s = t.state;
    if (s === undefined) return out;
    for (const p of t.publish) {
      const rec = publishRecord(
        bus,
        r,
        p.type,
        p.event as never,
        String(s.orderId),
        {
          priority: s.priority,
        },
      );
      out.push({ ...rec, value: { kind: "publish", published: rec.value } });
    }
    const viewValue: MachineOutput = { kind: "view", view: viewOf(s, now) };
    out.push(
      r === undefined
        ? record({ key: String(s.orderId), value: viewValue, timestamp: now })
        : derive(r, viewValue),
    );
    return out;
  };

  const decoded = input.pipe(
    connect((shared) =>
      merge(
        shared.pipe(
          filter((r): r is Record<"tick"> => r.value === "tick"),
          map((r) => r as Record<AnyEvent | "tick">),
        ),
        shared.pipe(
          filter((r): r is Record<Buffer> => r.value !== "tick"),
          decodeRecords(bus),
          toDeadLetters<Buffer, AnyEvent>(bus, sink, badRecords, rawBytes),
        ),
      ),
    ),
  );

  const outputs = decoded.pipe(
    keyedProcess<AnyEvent | "tick", MachineOutput>({
      backend,
      process: (r, ctx) => {
        if (r.value === "tick") {
          ctx.timers.registerProcessingTime(ctx.now());
          return undefined;
        }
        const t = transition(
          ctx.state(ORDER).value(),
          r.value,
          ctx.now(),
          o.grace,
          r.headers[PRIORITY_HEADER] === "true",
        );
        return emit(r, ctx, t);
      },
      onTimer: (_time, ctx) => {
        if (ctx.key === TICK_KEY) return undefined;
        const s = ctx.state(ORDER).value();
        if (
          s === undefined ||
          s.graceDueAt === null ||
          s.graceDueAt > ctx.now()
        )
          return undefined;
        return emit(
          undefined,
          ctx,
          transition(s, { type: "GraceTimer" }, ctx.now(), o.grace, s.priority),
        );
      },
    }),
    filter(
      (e): e is Record<MachineOutput> =>
        !("kind" in e && e.kind === "watermark"),
    ),
    connect((shared) =>
      merge(
        shared.pipe(
          filter((r) => r.value.kind === "publish"),
          map((r) =>
            derive(r, (r.value as { published: Published }).published),
          ),
          publishTo(sink),
        ),
        shared.pipe(
          filter((r) => r.value.kind === "view"),
          map((r) => derive(r, (r.value as { view: OrderView }).view)),
          writeTo(views, { maxBatch: 200, maxWaitMs: 5 }),
        ),
      ),
    ),
  );

  const done = Promise.all([
    new Promise<void>((resolve, reject) =>
      relayed.subscribe({ complete: resolve, error: reject }),
    ),
    new Promise<void>((resolve, reject) =>
      outputs.subscribe({ complete: resolve, error: reject }),
    ),
  ]).then(() => undefined);
  return { done, badRecords, owned: () => owned.size };
}

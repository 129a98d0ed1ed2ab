import {
  connect,
  defer,
  filter,
  merge,
  type Observable,
  type OperatorFunction,
} from "rxjs";
import { BadRecordCounters } from "../../operators/dead-letter.js";
import { keyOrderedMap } from "../../operators/key-ordered-map.js";
import type { Outcome } from "../../operators/outcome.js";
import { retryWithBackoff } from "../../operators/retry-with-backoff.js";
import type { Record } from "../../operators/record.js";
import type { EshopBus, EshopWiring } from "./bus.js";
import { eventId, PRIORITY_HEADER, type AnyEvent } from "./events.js";
import type { RunningService } from "./ordering.js";
import type { PaymentClient } from "./payment-provider.js";
import {
  decodeRecords,
  fanOut,
  publishRecord,
  publishSink,
  publishTo,
  eventBytes,
  rawBytes,
  toDeadLetters,
  type Published,
} from "./plumbing.js";
import type { BasketRepo, StockRepo } from "./stores.js";

/**
 * Retries of a handler call whose error is retryable (PostgreSQL or the provider away): a
 * short outage delays the order instead of dead-lettering it; after the last attempt the
 * event goes to the dead letters with the reason.
 */
const RETRY = { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 5_000 } as const;
const STEP_TIMEOUT_MS = 60_000;

type Handler = (r: Record<AnyEvent>) => Promise<readonly Record<Published>[]>;

function done(p: Observable<unknown>): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    p.subscribe({ complete: resolve, error: reject }),
  );
}

/** Where a service's events go after decoding: handled, ordered per key, to what it publishes. */
type Step = OperatorFunction<
  Record<AnyEvent>,
  Outcome<AnyEvent, readonly Record<Published>[]>
>;

/** decode → dead letters → `step` → dead letters → publish, on `group` reading `topics`. */
function runService(
  bus: EshopBus,
  w: EshopWiring,
  group: string,
  topics: Parameters<EshopBus["source"]>[1],
  step: Step,
  clientId: string | undefined,
): RunningService {
  const sink = w.addSink(publishSink(bus.sink()));
  const source = w.addSource(
    bus.source(group, topics, clientId !== undefined ? { clientId } : {}),
  );
  const badRecords = new BadRecordCounters();
  const pipeline = source
    .records()
    .pipe(
      decodeRecords(bus),
      toDeadLetters<Buffer, AnyEvent>(bus, sink, badRecords, rawBytes),
      step,
      toDeadLetters<AnyEvent, readonly Record<Published>[]>(
        bus,
        sink,
        badRecords,
        eventBytes,
      ),
      fanOut<Published>(),
      publishTo(sink),
    );
  return { done: done(pipeline), badRecords };
}

/** Each event through `handle`, retried, in order per key (16 keys at a time). */
const handled = (handle: Handler): Step =>
  keyOrderedMap(
    retryWithBackoff((r: Record<AnyEvent>) => defer(() => handle(r)), RETRY),
    { concurrency: 16, timeoutMs: STEP_TIMEOUT_MS },
  );

/**
 * Catalog: checks stock for orders awaiting validation (OrderStockConfirmed or
 * OrderStockRejected on order-stock-statuses) and takes paid orders' units out of stock,
 * once per order.
 */
export function startCatalog(
  w: EshopWiring,
  o: {
    readonly bus: EshopBus;
    readonly stock: StockRepo;
    readonly groupPrefix?: string;
    readonly clientId?: string;
  },
): RunningService & {
  readonly decrements: { applied: number; repeated: number };
} {
  const decrements = { applied: 0, repeated: 0 };
  const service = runService(
    o.bus,
    w,
    `${o.groupPrefix ?? ""}catalog`,
    ["orders-waiting-for-validation", "paid-orders"],
    handled(async (r) => {
      const { type, event } = r.value;
      if (type === "OrderStatusChangedToAwaitingValidationIntegrationEvent") {
        const decision = await o.stock.check(
          event.orderId,
          event.orderStockItems,
        );
        const key = String(event.orderId);
        const now = new Date();
        return [
          decision.every((d) => d.hasStock)
            ? publishRecord(
                o.bus,
                r,
                "OrderStockConfirmedIntegrationEvent",
                {
                  id: eventId(event.orderId, "stock-confirmed"),
                  creationDate: now,
                  orderId: event.orderId,
                },
                key,
              )
            : publishRecord(
                o.bus,
                r,
                "OrderStockRejectedIntegrationEvent",
                {
                  id: eventId(event.orderId, "stock-rejected"),
                  creationDate: now,
                  orderId: event.orderId,
                  orderStockItems: decision,
                },
                key,
              ),
        ];
      }
      if (type === "OrderStatusChangedToPaidIntegrationEvent") {
        if (await o.stock.decrement(event.orderId, event.orderStockItems))
          decrements.applied += 1;
        else decrements.repeated += 1;
      }
      return [];
    }),
    o.clientId,
  );
  return { ...service, decrements };
}

/** Publishes a price change (the catalog API's side of Catalog). */
export function priceChangedRecord(
  bus: EshopBus,
  productId: number,
  newPrice: string,
  oldPrice: string,
): Record<Published> {
  return publishRecord(
    bus,
    undefined,
    "ProductPriceChangedIntegrationEvent",
    {
      id: eventId(productId, "price", oldPrice, newPrice, Date.now()),
      creationDate: new Date(),
      productId,
      newPrice,
      oldPrice,
    },
    String(productId),
  );
}

/** Counts of the two handler paths of Payment. */
export interface PaymentPaths {
  priority: number;
  normal: number;
}

/**
 * Payment: charges orders whose stock is confirmed through the provider, with the order's
 * idempotency key (`order-<id>`), so a redelivered event cannot charge twice. Priority orders
 * (header `eshop.priority: true`) take their own handler path with its own concurrency, so a
 * backlog of normal orders never queues them.
 */
export function startPayment(
  w: EshopWiring,
  o: {
    readonly bus: EshopBus;
    readonly provider: PaymentClient;
    readonly groupPrefix?: string;
    readonly clientId?: string;
    readonly normalConcurrency?: number;
    readonly priorityConcurrency?: number;
  },
): RunningService & { readonly paths: PaymentPaths } {
  const { bus } = o;
  const paths: PaymentPaths = { priority: 0, normal: 0 };
  const charge =
    (path: keyof PaymentPaths) =>
    (r: Record<AnyEvent>): Observable<readonly Record<Published>[]> =>
      defer(async () => {
        paths[path] += 1;
        if (
          r.value.type !== "OrderStatusChangedToStockConfirmedIntegrationEvent"
        )
          return [];
        const e = r.value.event;
        const result = await o.provider.charge(
          { orderId: e.orderId, buyer: e.buyerName },
          `order-${e.orderId}`,
        );
        const key = String(e.orderId);
        const base = { creationDate: new Date(), orderId: e.orderId };
        return [
          result.status === "succeeded"
            ? publishRecord(
                bus,
                r,
                "OrderPaymentSucceededIntegrationEvent",
                {
                  ...base,
                  id: eventId(e.orderId, "payment-succeeded"),
                },
                key,
              )
            : publishRecord(
                bus,
                r,
                "OrderPaymentFailedIntegrationEvent",
                {
                  ...base,
                  id: eventId(e.orderId, "payment-failed"),
                },
                key,
              ),
        ];
      });
  const isPriority = (r: Record<AnyEvent>): boolean =>
    r.headers[PRIORITY_HEADER] === "true";
  const service = runService(
    bus,
    w,
    `${o.groupPrefix ?? ""}payment`,
    ["stock-confirmed"],
    connect((shared) =>
      merge(
        shared.pipe(
          filter(isPriority),
          keyOrderedMap(retryWithBackoff(charge("priority"), RETRY), {
            concurrency: o.priorityConcurrency ?? 16,
            timeoutMs: STEP_TIMEOUT_MS,
          }),
        ),
        shared.pipe(
          filter((r) => !isPriority(r)),
          keyOrderedMap(retryWithBackoff(charge("normal"), RETRY), {
            concurrency: o.normalConcurrency ?? 4,
            timeoutMs: STEP_TIMEOUT_MS,
          }),
        ),
      ),
    ),
    o.clientId,
  );
  return { ...service, paths };
}

/**
 * Basket: applies price changes to the open baskets holding the product and empties a
 * buyer's basket once Ordering has started the order (OrderStarted).
 */
export function startBasket(
  w: EshopWiring,
  o: {
    readonly bus: EshopBus;
    readonly baskets: BasketRepo;
    readonly groupPrefix?: string;
    readonly clientId?: string;
  },
): RunningService & {
  readonly counts: { pricesApplied: number; basketsEmptied: number };
} {
  const counts = { pricesApplied: 0, basketsEmptied: 0 };
  const service = runService(
    o.bus,
    w,
    `${o.groupPrefix ?? ""}basket`,
    ["product-price-changes", "orders"],
    handled(async (r) => {
      const { type, event } = r.value;
      if (type === "ProductPriceChangedIntegrationEvent")
        counts.pricesApplied += await o.baskets.applyPrice(
          event.productId,
          event.newPrice,
          event.oldPrice,
        );
      else if (type === "OrderStartedIntegrationEvent") {
        await o.baskets.delete(event.userId);
        counts.basketsEmptied += 1;
      }
      return [];
    }),
    o.clientId,
  );
  return { ...service, counts };
}

import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  avroAssetDir,
  createCodec,
  SchemaStore,
  type Codec,
} from "../../avro/index.js";
import { SluiceError } from "../../operators/sluice-error.js";

// The integration events of seeds/003 as TypeScript values of their Avro types
// (avro/schemas/*IntegrationEvent.avsc). Decimals are exact strings, timestamps are Dates.

export type OrderStatus =
  | "Submitted"
  | "AwaitingValidation"
  | "StockConfirmed"
  | "Paid"
  | "Shipped"
  | "Cancelled";

export interface OrderStockItem {
  readonly productId: number;
  readonly units: number;
}
export interface ConfirmedOrderStockItem {
  readonly productId: number;
  readonly hasStock: boolean;
}
export interface BasketItem {
  readonly id: string;
  readonly productId: number;
  readonly productName: string;
  readonly unitPrice: string;
  readonly oldUnitPrice: string | null;
  readonly quantity: number;
  readonly pictureUrl: string | null;
}
export interface CustomerBasket {
  readonly buyerId: string;
  readonly items: readonly BasketItem[];
}

interface Base {
  readonly id: string;
  readonly creationDate: Date;
}
interface OrderBase extends Base {
  readonly orderId: number;
}
interface StatusBase extends OrderBase {
  readonly orderStatus: OrderStatus;
  readonly buyerName: string;
}

export interface UserCheckoutAccepted extends Base {
  readonly userId: string;
  readonly userName: string;
  readonly orderNumber: number;
  readonly city: string;
  readonly street: string;
  readonly state: string;
  readonly country: string;
  readonly zipCode: string;
  readonly cardNumber: string;
  readonly cardHolderName: string;
  readonly cardExpiration: Date;
  readonly cardTypeId: number;
  readonly buyer: string;
  readonly requestId: string;
  readonly basket: CustomerBasket;
}
export interface OrderStarted extends Base {
  readonly userId: string;
}
export interface ProductPriceChanged extends Base {
  readonly productId: number;
  readonly newPrice: string;
  readonly oldPrice: string;
}
export type OrderStockConfirmed = OrderBase;
export interface OrderStockRejected extends OrderBase {
  readonly orderStockItems: readonly ConfirmedOrderStockItem[];
}
export interface StatusWithItems extends StatusBase {
  readonly orderStockItems: readonly OrderStockItem[];
}
export type OrderPaymentResult = OrderBase;
export type GracePeriodConfirmed = OrderBase;
export interface OrderCommand extends OrderBase {
  readonly action: "Ship" | "Cancel";
}

/** Every event (and the one command) by its Avro short name. */
export interface EshopEvents {
  readonly UserCheckoutAcceptedIntegrationEvent: UserCheckoutAccepted;
  readonly OrderStartedIntegrationEvent: OrderStarted;
  readonly ProductPriceChangedIntegrationEvent: ProductPriceChanged;
  readonly OrderStockConfirmedIntegrationEvent: OrderStockConfirmed;
  readonly OrderStockRejectedIntegrationEvent: OrderStockRejected;
  readonly OrderStatusChangedToAwaitingValidationIntegrationEvent: StatusWithItems;
  readonly OrderStatusChangedToPaidIntegrationEvent: StatusWithItems;
  readonly OrderStatusChangedToCancelledIntegrationEvent: StatusBase;
  readonly OrderStatusChangedToShippedIntegrationEvent: StatusBase;
  readonly OrderStatusChangedToSubmittedIntegrationEvent: StatusBase;
  readonly OrderStatusChangedToStockConfirmedIntegrationEvent: StatusBase;
  readonly OrderPaymentFailedIntegrationEvent: OrderPaymentResult;
  readonly OrderPaymentSucceededIntegrationEvent: OrderPaymentResult;
  readonly GracePeriodConfirmedIntegrationEvent: GracePeriodConfirmed;
  readonly OrderCommand: OrderCommand;
}
export type EventName = keyof EshopEvents;

/** A decoded event with its type name: what the services switch on. */
export type AnyEvent = {
  [K in EventName]: { readonly type: K; readonly event: EshopEvents[K] };
}[EventName];

/**
 * The topics of seeds/003 ("Topics and events") and what travels on each. The seed gives
 * Submitted, Cancelled and Shipped (no handlers) no topic: they go to `order-status-changes`.
 * `order-commands` carries the HTTP API's ship/cancel commands and `ordering-inbox` is
 * Ordering's own repartition topic (all its inputs, keyed by order id, so one order's keyed
 * state lives in one partition of one topic).
 */
export const TOPIC_EVENTS = {
  "order-checkouts": ["UserCheckoutAcceptedIntegrationEvent"],
  "payment-status": [
    "OrderPaymentFailedIntegrationEvent",
    "OrderPaymentSucceededIntegrationEvent",
  ],
  "product-price-changes": ["ProductPriceChangedIntegrationEvent"],
  "order-stock-statuses": [
    "OrderStockRejectedIntegrationEvent",
    "OrderStockConfirmedIntegrationEvent",
  ],
  orders: ["OrderStartedIntegrationEvent"],
  "orders-waiting-for-validation": [
    "OrderStatusChangedToAwaitingValidationIntegrationEvent",
  ],
  "paid-orders": ["OrderStatusChangedToPaidIntegrationEvent"],
  "grace-period-confirmed": ["GracePeriodConfirmedIntegrationEvent"],
  "stock-confirmed": ["OrderStatusChangedToStockConfirmedIntegrationEvent"],
  "order-status-changes": [
    "OrderStatusChangedToSubmittedIntegrationEvent",
    "OrderStatusChangedToCancelledIntegrationEvent",
    "OrderStatusChangedToShippedIntegrationEvent",
  ],
  "order-commands": ["OrderCommand"],
} as const satisfies { readonly [topic: string]: readonly EventName[] };

export type SeedTopic = keyof typeof TOPIC_EVENTS;
/** Every logical topic, including Ordering's inbox and the dead letters. */
export type Topic = SeedTopic | "ordering-inbox" | "eshop-dead-letters";
export const TOPICS: readonly Topic[] = [
  ...(Object.keys(TOPIC_EVENTS) as SeedTopic[]),
  "ordering-inbox",
  "eshop-dead-letters",
];

/** Header naming the event type of a record (several types share a topic). */
export const EVENT_TYPE_HEADER = "eshop.event-type";
/** Header marking a priority order (`"true"`): dispatched to the priority handler path. */
export const PRIORITY_HEADER = "eshop.priority";

/** The topic an event type is published on. */
export function topicOf(type: EventName): SeedTopic {
  for (const [topic, types] of Object.entries(TOPIC_EVENTS))
    if ((types as readonly string[]).includes(type)) return topic as SeedTopic;
  throw new SluiceError("CONFIG", `eshop: no topic carries ${type}`);
}

let commandStore: SchemaStore | undefined;
const codecs = new Map<EventName, Codec<unknown>>();

function codecOf<K extends EventName>(type: K): Codec<EshopEvents[K]> {
  let codec = codecs.get(type);
  if (codec === undefined) {
    if (type === "OrderCommand") {
      commandStore ??= SchemaStore.load(join(avroAssetDir("schemas"), "eshop"));
      codec = createCodec(commandStore.type(`dev.sluice.eshop.${type}`), {
        store: commandStore,
      });
    } else codec = createCodec(`dev.sluice.eshop.${type}`);
    codecs.set(type, codec);
  }
  return codec as Codec<EshopEvents[K]>;
}

/** Encodes an event (Avro single-object encoding); throws `VALIDATE` naming a bad field. */
export function encodeEvent<K extends EventName>(
  type: K,
  event: EshopEvents[K],
): Buffer {
  return codecOf(type).encode(event);
}

function isEventName(topic: string, name: string): name is EventName {
  const types = (TOPIC_EVENTS as { readonly [t: string]: readonly string[] })[
    topic
  ];
  return types !== undefined && types.includes(name);
}

/**
 * Decodes a record of `topic` by its event-type header; a missing or unexpected header, or
 * bytes that are not that Avro type, throw a `DECODE` SluiceError saying which.
 */
export function decodeEvent(
  topic: string,
  headers: { readonly [name: string]: string },
  bytes: Buffer,
): AnyEvent {
  const type = headers[EVENT_TYPE_HEADER];
  if (type === undefined)
    throw new SluiceError(
      "DECODE",
      `${topic}: record has no ${EVENT_TYPE_HEADER} header`,
      { context: { stage: "decode" } },
    );
  if (!isEventName(topic, type))
    throw new SluiceError(
      "DECODE",
      `${topic}: event type ${type} does not travel on this topic`,
      { context: { stage: "decode" } },
    );
  const decoded = codecOf(type).tryDecode(bytes);
  if (!decoded.ok) throw decoded.error;
  return { type, event: decoded.value } as AnyEvent;
}

/**
 * A deterministic integration-event id (UUID-shaped, from SHA-256): the same transition of
 * the same order always publishes the same id, so consumers can recognise redeliveries.
 */
export function eventId(...parts: readonly (string | number)[]): string {
  const h = createHash("sha256").update(parts.join("\u0000")).digest("hex");
  const v = ((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${v}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Exact decimal arithmetic on two-digit money strings ("19.90"), in cents. */
export function toCents(amount: string): number {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(amount);
  if (m === null)
    throw new SluiceError("VALIDATE", `not a money amount: "${amount}"`);
  const cents = Number(m[2]) * 100 + Number((m[3] ?? "0").padEnd(2, "0"));
  return m[1] === "-" ? -cents : cents;
}
export function fromCents(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const a = Math.abs(cents);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, "0")}`;
}

import type { CheckpointStore } from "../../connectors/checkpoint-store.js";
import { startApi, type EshopApi } from "./api.js";
import { localWiring, type EshopBus, type LocalWiring } from "./bus.js";
import {
  startOrdering,
  type GraceOptions,
  type RunningService,
} from "./ordering.js";
import {
  httpPaymentClient,
  startPaymentSimulator,
  type PaymentSimulator,
  type PaymentSimulatorOptions,
} from "./payment-provider.js";
import { startBasket, startCatalog, startPayment } from "./services.js";
import type { EshopStores, Product } from "./stores.js";

/** The demo catalogue. */
export const PRODUCTS: readonly Product[] = [
  { productId: 1, name: ".NET Bot Black Hoodie", price: "19.50", stock: 100 },
  { productId: 2, name: ".NET Black & White Mug", price: "8.50", stock: 100 },
  { productId: 3, name: "Prism White T-Shirt", price: "12.00", stock: 100 },
  { productId: 4, name: "Roslyn Red Sheet", price: "8.50", stock: 1 },
];

export const DEFAULT_GRACE: GraceOptions = {
  mode: "timer",
  graceMs: 300,
  priorityGraceMs: 50,
  retryMs: 2_000,
};

/** Options of {@link startEshop}. */
export interface EshopOptions {
  readonly bus: EshopBus;
  readonly stores: EshopStores;
  readonly checkpointStore: CheckpointStore;
  readonly grace?: GraceOptions;
  readonly payment?: PaymentSimulatorOptions;
  /** Prefix of consumer groups and checkpoint job names. */
  readonly groupPrefix?: string;
  readonly checkpointIntervalMs?: number;
  /** Start the HTTP API (default true). */
  readonly api?: boolean;
}

/** The whole e-shop in one process: four services, the payment provider and the API. */
export interface RunningEshop {
  readonly api: EshopApi | undefined;
  readonly payments: PaymentSimulator;
  readonly ordering: RunningService;
  readonly catalog: ReturnType<typeof startCatalog>;
  readonly payment: ReturnType<typeof startPayment>;
  readonly basket: ReturnType<typeof startBasket>;
  readonly wirings: {
    readonly ordering: LocalWiring;
    readonly catalog: LocalWiring;
    readonly payment: LocalWiring;
    readonly basket: LocalWiring;
  };
  /** Starts another Ordering instance in the same consumer groups (scale out). */
  addOrderingInstance(clientId: string): {
    readonly wiring: LocalWiring;
    readonly service: RunningService;
  };
  close(): Promise<void>;
}

/** Creates the topics and starts everything; close() stops it in order. */
export async function startEshop(o: EshopOptions): Promise<RunningEshop> {
  const prefix = o.groupPrefix ?? "eshop-";
  const grace = o.grace ?? DEFAULT_GRACE;
  await o.bus.createTopics();
  const wiring = (job: string): LocalWiring =>
    localWiring({
      job: `${prefix}${job}`,
      store: o.checkpointStore,
      intervalMs: o.checkpointIntervalMs ?? 1_000,
    });
  const payments = await startPaymentSimulator(o.payment ?? {});
  const wirings = {
    ordering: wiring("ordering"),
    catalog: wiring("catalog"),
    payment: wiring("payment"),
    basket: wiring("basket"),
  };
  const startOrderingIn = (w: LocalWiring, clientId?: string): RunningService =>
    startOrdering(w, {
      bus: o.bus,
      views: o.stores.views,
      grace,
      groupPrefix: prefix,
      ...(clientId !== undefined ? { clientId } : {}),
    });
  const ordering = startOrderingIn(wirings.ordering);
  const catalog = startCatalog(wirings.catalog, {
    bus: o.bus,
    stock: o.stores.stock,
    groupPrefix: prefix,
  });
  const payment = startPayment(wirings.payment, {
    bus: o.bus,
    provider: httpPaymentClient(payments.url),
    groupPrefix: prefix,
  });
  const basket = startBasket(wirings.basket, {
    bus: o.bus,
    baskets: o.stores.baskets,
    groupPrefix: prefix,
  });
  const api =
    o.api === false
      ? undefined
      : await startApi({ bus: o.bus, stores: o.stores });
  const extra: LocalWiring[] = [];
  return {
    api,
    payments,
    ordering,
    catalog,
    payment,
    basket,
    wirings,
    addOrderingInstance(clientId) {
      const w = wiring("ordering");
      extra.push(w);
      return { wiring: w, service: startOrderingIn(w, clientId) };
    },
    async close() {
      await api?.close();
      await Promise.all(
        [...Object.values(wirings), ...extra].map((w) => w.close()),
      );
      await payments.close();
    },
  };
}

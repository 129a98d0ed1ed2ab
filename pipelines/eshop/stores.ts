import type {
  BasketItem,
  ConfirmedOrderStockItem,
  CustomerBasket,
  OrderStatus,
  OrderStockItem,
} from "./events.js";

/** What the HTTP API shows of an order: Ordering's state machine writes it. */
export interface OrderView {
  readonly orderId: number;
  readonly status: OrderStatus;
  readonly buyer: string;
  readonly priority: boolean;
  readonly items: readonly OrderStockItem[];
  /** When the order was submitted (epoch ms): the grace period counts from here. */
  readonly submittedAt: number;
  readonly updatedAt: number;
  /** Transition count: a view only replaces one with a lower version (idempotent, ordered). */
  readonly version: number;
  /** Why the order was cancelled, or a refused command. */
  readonly note: string | null;
}

/** Order views (memory or PostgreSQL). */
export interface OrderViews {
  upsert(views: readonly OrderView[]): Promise<void>;
  get(orderId: number): Promise<OrderView | undefined>;
  /** Submitted orders whose grace period ended at `now` (the grace-period task). */
  dueForGrace(now: number, graceMs: number): Promise<readonly OrderView[]>;
  /** Order ids by status (demo summary, tests). */
  countByStatus(): Promise<ReadonlyMap<OrderStatus, number>>;
}

/** Products, their stock and prices (Catalog). */
export interface Product {
  readonly productId: number;
  readonly name: string;
  readonly price: string;
  readonly stock: number;
}

/** The catalog's stock: checks and decrements are idempotent per order. */
export interface StockRepo {
  upsertProducts(products: readonly Product[]): Promise<void>;
  products(): Promise<readonly Product[]>;
  /**
   * Checks stock for an order. The first decision per order is stored and returned again on
   * redelivery, so a replay cannot flip it.
   */
  check(
    orderId: number,
    items: readonly OrderStockItem[],
  ): Promise<readonly ConfirmedOrderStockItem[]>;
  /** Removes the order's units from stock once; false when this order was already applied. */
  decrement(
    orderId: number,
    items: readonly OrderStockItem[],
  ): Promise<boolean>;
  /** Sets a price; returns the old one (undefined: unknown product). */
  setPrice(productId: number, price: string): Promise<string | undefined>;
}

/** Open baskets (Basket). */
export interface BasketRepo {
  get(buyerId: string): Promise<CustomerBasket | undefined>;
  put(basket: CustomerBasket): Promise<void>;
  delete(buyerId: string): Promise<void>;
  /** Applies a price change to every open basket holding the product; returns how many lines changed. */
  applyPrice(
    productId: number,
    newPrice: string,
    oldPrice: string,
  ): Promise<number>;
}

/** Order numbers for checkouts. */
export interface OrderNumbers {
  next(): Promise<number>;
}

/** One run of the grace-period task (recorded like a Spring Cloud Task execution). */
export interface TaskRun {
  readonly runId: number;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly confirmed: number;
  readonly exitMessage: string | null;
}

/** The grace-period task's run log. */
export interface TaskRuns {
  start(startedAt: number): Promise<number>;
  finish(
    runId: number,
    endedAt: number,
    confirmed: number,
    exitMessage: string,
  ): Promise<void>;
  list(): Promise<readonly TaskRun[]>;
}

/** Everything with a state outside the log: memory ({@link memoryStores}) or PostgreSQL. */
export interface EshopStores {
  readonly views: OrderViews;
  readonly stock: StockRepo;
  readonly baskets: BasketRepo;
  readonly orderNumbers: OrderNumbers;
  readonly taskRuns: TaskRuns;
}

/** The embedded stores: plain maps in this process. */
export function memoryStores(): EshopStores {
  const views = new Map<number, OrderView>();
  const products = new Map<number, Product>();
  const decisions = new Map<number, readonly ConfirmedOrderStockItem[]>();
  const decremented = new Set<number>();
  const baskets = new Map<string, CustomerBasket>();
  const runs: TaskRun[] = [];
  let orderNumber = 0;
  const ok = Promise.resolve();
  return {
    views: {
      upsert(vs) {
        for (const v of vs) {
          const old = views.get(v.orderId);
          if (old === undefined || old.version < v.version)
            views.set(v.orderId, v);
        }
        return ok;
      },
      get: (id) => Promise.resolve(views.get(id)),
      dueForGrace: (now, graceMs) =>
        Promise.resolve(
          [...views.values()].filter(
            (v) => v.status === "Submitted" && v.submittedAt + graceMs <= now,
          ),
        ),
      countByStatus() {
        const m = new Map<OrderStatus, number>();
        for (const v of views.values())
          m.set(v.status, (m.get(v.status) ?? 0) + 1);
        return Promise.resolve(m);
      },
    },
    stock: {
      upsertProducts(ps) {
        for (const p of ps) products.set(p.productId, p);
        return ok;
      },
      products: () =>
        Promise.resolve(
          [...products.values()].sort((a, b) => a.productId - b.productId),
        ),
      check(orderId, items) {
        let d = decisions.get(orderId);
        if (d === undefined) {
          d = items.map((i) => ({
            productId: i.productId,
            hasStock: (products.get(i.productId)?.stock ?? 0) >= i.units,
          }));
          decisions.set(orderId, d);
        }
        return Promise.resolve(d);
      },
      decrement(orderId, items) {
        if (decremented.has(orderId)) return Promise.resolve(false);
        decremented.add(orderId);
        for (const i of items) {
          const p = products.get(i.productId);
          if (p !== undefined)
            products.set(p.productId, { ...p, stock: p.stock - i.units });
        }
        return Promise.resolve(true);
      },
      setPrice(productId, price) {
        const p = products.get(productId);
        if (p === undefined) return Promise.resolve(undefined);
        products.set(productId, { ...p, price });
        return Promise.resolve(p.price);
      },
    },
    baskets: {
      get: (b) => Promise.resolve(baskets.get(b)),
      put(b) {
        baskets.set(b.buyerId, b);
        return ok;
      },
      delete(b) {
        baskets.delete(b);
        return ok;
      },
      applyPrice(productId, newPrice, oldPrice) {
        let changed = 0;
        for (const b of baskets.values()) {
          const items = b.items.map((i): BasketItem => {
            if (i.productId !== productId || i.unitPrice === newPrice) return i;
            changed += 1;
            return { ...i, unitPrice: newPrice, oldUnitPrice: oldPrice };
          });
          baskets.set(b.buyerId, { ...b, items });
        }
        return Promise.resolve(changed);
      },
    },
    orderNumbers: { next: () => Promise.resolve((orderNumber += 1)) },
    taskRuns: {
      start(startedAt) {
        const runId = runs.length + 1;
        runs.push({
          runId,
          startedAt,
          endedAt: null,
          confirmed: 0,
          exitMessage: null,
        });
        return Promise.resolve(runId);
      },
      finish(runId, endedAt, confirmed, exitMessage) {
        const i = runs.findIndex((r) => r.runId === runId);
        const r = runs[i];
        if (r !== undefined)
          runs[i] = { ...r, endedAt, confirmed, exitMessage };
        return ok;
      },
      list: () => Promise.resolve([...runs]),
    },
  };
}

import {
  inTransaction,
  migratePostgres,
  sqlDirectory,
  type MigrationResult,
  type PostgresPool,
} from "../../connectors/postgres/index.js";
import { SluiceError } from "../../operators/sluice-error.js";
import type {
  ConfirmedOrderStockItem,
  CustomerBasket,
  OrderStatus,
  OrderStockItem,
} from "./events.js";
import type { EshopStores, OrderView, Product, TaskRun } from "./stores.js";

/** Reads `sql/<name>.sql` and puts the quoted schema in. */
const queries = sqlDirectory(
  new URL("./sql/", import.meta.url),
  "pipelines/eshop/sql",
);
const sql = (name: string, schema: string): string => queries(name, { schema });

/**
 * Creates the e-shop tables in `schema` from `pipelines/eshop/migrations/` (numbered,
 * postgrator; a second run does nothing).
 *
 * @example
 * ```ts
 * await migrateEshop(db, { schema: "eshop" });
 * ```
 */
export function migrateEshop(
  db: PostgresPool,
  options: { readonly schema: string },
): Promise<MigrationResult> {
  return migratePostgres(db, {
    schema: options.schema,
    // Its own version table: the runtime's tables may share the schema.
    versionTable: "eshop_migrations",
    directory: new URL("./migrations/", import.meta.url),
  });
}

interface ViewRow {
  order_id: number;
  status: string;
  buyer: string;
  priority: boolean;
  items: OrderStockItem[];
  submitted_at: Date;
  updated_at: Date;
  version: number;
  note: string | null;
}

const toView = (r: ViewRow): OrderView => ({
  orderId: r.order_id,
  status: r.status as OrderStatus,
  buyer: r.buyer,
  priority: r.priority,
  items: r.items,
  submittedAt: r.submitted_at.getTime(),
  updatedAt: r.updated_at.getTime(),
  version: r.version,
  note: r.note,
});

/**
 * The e-shop's stores on PostgreSQL (migrate first with {@link migrateEshop}). Stock
 * decisions and decrements are keyed by order id, so a redelivered event changes nothing.
 *
 * @example
 * ```ts
 * const stores = postgresStores(db, "eshop");
 * await stores.stock.decrement(7, [{ productId: 1, units: 2 }]); // true, then false
 * ```
 */
export function postgresStores(db: PostgresPool, schema: string): EshopStores {
  const q = (name: string): string => sql(name, schema);
  const pool = db.pool;
  return {
    views: {
      async upsert(vs) {
        if (vs.length === 0) return;
        // One row per order: the highest version of the batch.
        const last = new Map<number, OrderView>();
        for (const v of vs) {
          const o = last.get(v.orderId);
          if (o === undefined || o.version < v.version) last.set(v.orderId, v);
        }
        const rows = [...last.values()];
        await pool.query(q("upsert-order-view"), [
          rows.map((v) => v.orderId),
          rows.map((v) => v.status),
          rows.map((v) => v.buyer),
          rows.map((v) => v.priority),
          rows.map((v) => JSON.stringify(v.items)),
          rows.map((v) => new Date(v.submittedAt)),
          rows.map((v) => new Date(v.updatedAt)),
          rows.map((v) => v.version),
          rows.map((v) => v.note),
        ]);
      },
      async get(orderId) {
        const { rows } = await pool.query<ViewRow>(q("select-order-view"), [
          orderId,
        ]);
        return rows[0] === undefined ? undefined : toView(rows[0]);
      },
      async dueForGrace(now, graceMs) {
        const { rows } = await pool.query<ViewRow>(q("select-due-for-grace"), [
          new Date(now - graceMs),
        ]);
        return rows.map(toView);
      },
      async countByStatus() {
        const { rows } = await pool.query<{ status: OrderStatus; n: number }>(
          q("count-orders-by-status"),
        );
        return new Map(rows.map((r) => [r.status, r.n]));
      },
    },
    stock: {
      async upsertProducts(ps: readonly Product[]) {
        for (const p of ps)
          await pool.query(q("upsert-product"), [
            p.productId,
            p.name,
            p.price,
            p.stock,
          ]);
      },
      async products() {
        const { rows } = await pool.query<{
          product_id: number;
          name: string;
          price: string;
          stock: number;
        }>(q("select-products"));
        return rows.map((r) => ({
          productId: r.product_id,
          name: r.name,
          price: r.price,
          stock: r.stock,
        }));
      },
      check: (orderId, items) =>
        inTransaction(pool, "eshop stock check", async (tx) => {
          const { rows } = await tx.query<{
            product_id: number;
            stock: number;
          }>(q("select-stock"), [items.map((i) => i.productId)]);
          const stock = new Map(rows.map((r) => [r.product_id, r.stock]));
          const decision: ConfirmedOrderStockItem[] = items.map((i) => ({
            productId: i.productId,
            hasStock: (stock.get(i.productId) ?? 0) >= i.units,
          }));
          await tx.query(q("insert-stock-decision"), [
            orderId,
            JSON.stringify(decision),
          ]);
          const stored = await tx.query<{ items: ConfirmedOrderStockItem[] }>(
            q("select-stock-decision"),
            [orderId],
          );
          return stored.rows[0]?.items ?? decision;
        }),
      decrement: (orderId, items) =>
        inTransaction(pool, "eshop stock decrement", async (tx) => {
          const first = await tx.query(q("insert-stock-decrement"), [orderId]);
          if (first.rowCount !== 1) return false;
          for (const i of items)
            await tx.query(q("decrement-stock"), [i.productId, i.units]);
          return true;
        }),
      async setPrice(productId, price) {
        const { rows } = await pool.query<{ old_price: string }>(
          q("update-price"),
          [productId, price],
        );
        return rows[0]?.old_price;
      },
    },
    baskets: {
      async get(buyerId) {
        const { rows } = await pool.query<{ basket: CustomerBasket }>(
          q("select-basket"),
          [buyerId],
        );
        return rows[0]?.basket;
      },
      async put(basket) {
        await pool.query(q("upsert-basket"), [
          basket.buyerId,
          JSON.stringify(basket),
        ]);
      },
      async delete(buyerId) {
        await pool.query(q("delete-basket"), [buyerId]);
      },
      applyPrice: (productId, newPrice, oldPrice) =>
        inTransaction(pool, "eshop basket price change", async (tx) => {
          const { rows } = await tx.query<{
            buyer_id: string;
            basket: CustomerBasket;
          }>(q("select-baskets-with-product"), [
            JSON.stringify([{ productId }]),
          ]);
          let changed = 0;
          for (const r of rows) {
            const items = r.basket.items.map((i) => {
              if (i.productId !== productId || i.unitPrice === newPrice)
                return i;
              changed += 1;
              return { ...i, unitPrice: newPrice, oldUnitPrice: oldPrice };
            });
            await tx.query(q("upsert-basket"), [
              r.buyer_id,
              JSON.stringify({ ...r.basket, items }),
            ]);
          }
          return changed;
        }),
    },
    orderNumbers: {
      async next() {
        const { rows } = await pool.query<{ n: number }>(
          q("next-order-number"),
        );
        const n = rows[0]?.n;
        if (n === undefined)
          throw new SluiceError(
            "INTERNAL",
            "eshop: the order-number sequence returned no row",
          );
        return n;
      },
    },
    taskRuns: {
      async start(startedAt) {
        const { rows } = await pool.query<{ run_id: number }>(
          q("insert-task-run"),
          [new Date(startedAt)],
        );
        const id = rows[0]?.run_id;
        if (id === undefined)
          throw new SluiceError(
            "INTERNAL",
            "eshop: inserting a task run returned no id",
          );
        return id;
      },
      async finish(runId, endedAt, confirmed, exitMessage) {
        await pool.query(q("finish-task-run"), [
          runId,
          new Date(endedAt),
          confirmed,
          exitMessage,
        ]);
      },
      async list() {
        const { rows } = await pool.query<{
          run_id: number;
          started_at: Date;
          ended_at: Date | null;
          confirmed: number;
          exit_message: string | null;
        }>(q("select-task-runs"));
        return rows.map((r): TaskRun => ({
          runId: r.run_id,
          startedAt: r.started_at.getTime(),
          endedAt: r.ended_at?.getTime() ?? null,
          confirmed: r.confirmed,
          exitMessage: r.exit_message,
        }));
      },
    },
  };
}

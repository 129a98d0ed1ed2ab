import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import type { Sink } from "../../connectors/types.js";
import type { Record } from "../../operators/record.js";
import type { EshopBus } from "./bus.js";
import { eventId, type CustomerBasket } from "./events.js";
import { publishRecord, publishSink, type Published } from "./plumbing.js";
import { priceChangedRecord } from "./services.js";
import type { EshopStores } from "./stores.js";

const money = z
  .string()
  .regex(/^\d+(\.\d{1,2})?$/, "must be an amount like 19.90");
const placeOrder = z
  .object({
    buyer: z.string().min(1),
    items: z
      .array(
        z.object({
          productId: z.number().int(),
          quantity: z.number().int().positive(),
        }),
      )
      .min(1)
      .optional(),
    priority: z.boolean().default(false),
    city: z.string().default("Seattle"),
    street: z.string().default("15703 NE 61st Ct"),
    state: z.string().default("WA"),
    country: z.string().default("U.S."),
    zipCode: z.string().default("98052"),
  })
  .strict();
const basketBody = z
  .object({
    items: z.array(
      z.object({
        productId: z.number().int(),
        quantity: z.number().int().positive(),
      }),
    ),
  })
  .strict();

/** The e-shop's HTTP API: a person (or the demo) drives the system through it. */
export interface EshopApi {
  readonly url: string;
  /** Places an order like `POST /orders` does; returns its id. */
  placeOrder(body: z.input<typeof placeOrder>): Promise<number>;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function json(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "body is not JSON");
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new HttpError(
      400,
      r.error.issues
        .map((i) => `${i.path.join(".") || "body"}: ${i.message}`)
        .join("; "),
    );
  return r.data;
}

/**
 * Starts the API on `host:port` (0 = any free port):
 *
 * | method and path                | what it does                                                 |
 * | ------------------------------ | ------------------------------------------------------------ |
 * | `GET /products`                | products with price and stock                                |
 * | `PUT /products/:id/price`      | `{ "price": "12.50" }` → ProductPriceChanged                 |
 * | `GET`/`PUT /baskets/:buyer`    | read / replace a basket (`{ "items": [{ productId, quantity }] }`) |
 * | `POST /orders`                 | checkout (basket, or `items` given) → UserCheckoutAccepted   |
 * | `GET /orders/:id`              | the order's status as Ordering last wrote it                 |
 * | `PUT /orders/:id/ship`, `/cancel` | ship / cancel command to Ordering (202; see the status)   |
 */
export async function startApi(o: {
  readonly bus: EshopBus;
  readonly stores: EshopStores;
  readonly port?: number;
  readonly host?: string;
}): Promise<EshopApi> {
  const { bus, stores } = o;
  const sink: Sink<Published> = publishSink(bus.sink());
  await sink.connect();
  const publish = (rs: readonly Record<Published>[]): Promise<void> =>
    sink.write(
      rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    );

  const basketOf = async (
    buyer: string,
    items: readonly { productId: number; quantity: number }[],
  ): Promise<CustomerBasket> => {
    const products = new Map(
      (await stores.stock.products()).map((p) => [p.productId, p]),
    );
    return {
      buyerId: buyer,
      items: items.map((i, n) => {
        const p = products.get(i.productId);
        if (p === undefined)
          throw new HttpError(400, `no product ${i.productId}`);
        return {
          id: String(n + 1),
          productId: i.productId,
          productName: p.name,
          unitPrice: p.price,
          oldUnitPrice: null,
          quantity: i.quantity,
          pictureUrl: null,
        };
      }),
    };
  };

  const checkout = async (
    body: z.output<typeof placeOrder>,
  ): Promise<number> => {
    if (body.items !== undefined)
      await stores.baskets.put(await basketOf(body.buyer, body.items));
    const basket = await stores.baskets.get(body.buyer);
    if (basket === undefined || basket.items.length === 0)
      throw new HttpError(409, `the basket of ${body.buyer} is empty`);
    const orderId = await stores.orderNumbers.next();
    const now = new Date();
    await publish([
      publishRecord(
        bus,
        undefined,
        "UserCheckoutAcceptedIntegrationEvent",
        {
          id: eventId(orderId, "checkout"),
          creationDate: now,
          userId: body.buyer,
          userName: body.buyer,
          orderNumber: orderId,
          city: body.city,
          street: body.street,
          state: body.state,
          country: body.country,
          zipCode: body.zipCode,
          cardNumber: "4012888888881881",
          cardHolderName: body.buyer,
          cardExpiration: new Date(Date.UTC(2030, 11, 31)),
          cardTypeId: 1,
          buyer: body.buyer,
          requestId: eventId(orderId, "request"),
          basket,
        },
        String(orderId),
        { priority: body.priority },
      ),
    ]);
    return orderId;
  };

  const command = async (
    orderId: number,
    action: "Ship" | "Cancel",
  ): Promise<void> => {
    if ((await stores.views.get(orderId)) === undefined)
      throw new HttpError(404, `no order ${orderId}`);
    await publish([
      publishRecord(
        bus,
        undefined,
        "OrderCommand",
        {
          id: eventId(orderId, action, Date.now()),
          creationDate: new Date(),
          orderId,
          action,
        },
        String(orderId),
      ),
    ]);
  };

  const route = async (req: IncomingMessage): Promise<[number, unknown]> => {
    const url = new URL(req.url ?? "/", "http://x");
    const parts = url.pathname.split("/").filter((p) => p !== "");
    const m = req.method ?? "GET";
    const id = (s: string | undefined): number => {
      const n = Number(s);
      if (!Number.isInteger(n)) throw new HttpError(400, `not an id: ${s}`);
      return n;
    };
    if (parts[0] === "products") {
      if (m === "GET" && parts.length === 1)
        return [200, await stores.stock.products()];
      if (m === "PUT" && parts[2] === "price") {
        const productId = id(parts[1]);
        const { price } = parse(
          z.object({ price: money }).strict(),
          await json(req),
        );
        const old = await stores.stock.setPrice(productId, price);
        if (old === undefined)
          throw new HttpError(404, `no product ${productId}`);
        await publish([priceChangedRecord(bus, productId, price, old)]);
        return [200, { productId, price, oldPrice: old }];
      }
    }
    if (parts[0] === "baskets" && parts[1] !== undefined) {
      if (m === "GET")
        return [
          200,
          (await stores.baskets.get(parts[1])) ?? {
            buyerId: parts[1],
            items: [],
          },
        ];
      if (m === "PUT") {
        const { items } = parse(basketBody, await json(req));
        const basket = await basketOf(parts[1], items);
        await stores.baskets.put(basket);
        return [200, basket];
      }
    }
    if (parts[0] === "orders") {
      if (m === "POST" && parts.length === 1) {
        const orderId = await checkout(parse(placeOrder, await json(req)));
        return [202, { orderId, status: `/orders/${orderId}` }];
      }
      if (m === "GET" && parts.length === 2) {
        const view = await stores.views.get(id(parts[1]));
        if (view === undefined)
          throw new HttpError(
            404,
            `no order ${parts[1]} (yet: Ordering writes it on submit)`,
          );
        return [200, view];
      }
      if (
        (m === "PUT" || m === "POST") &&
        (parts[2] === "ship" || parts[2] === "cancel")
      ) {
        const orderId = id(parts[1]);
        await command(orderId, parts[2] === "ship" ? "Ship" : "Cancel");
        return [202, { orderId, requested: parts[2] }];
      }
    }
    throw new HttpError(404, `no route ${m} ${url.pathname}`);
  };

  const server: Server = createServer((req, res) => {
    route(req).then(
      ([status, body]) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      },
      (error: unknown) => {
        const status = error instanceof HttpError ? error.status : 500;
        res.writeHead(status, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: error instanceof Error ? error.message : String(error),
          }),
        );
      },
    );
  });
  await new Promise<void>((resolve) =>
    server.listen(o.port ?? 0, o.host ?? "127.0.0.1", resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host ?? "127.0.0.1"}:${port}`,
    placeOrder: (body) => checkout(parse(placeOrder, body)),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await sink.flush();
      await sink.close();
    },
  };
}

import { createHash } from "node:crypto";
import { Agent, createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { SluiceError } from "../../operators/sluice-error.js";

/**
 * A charge as a card processor's API shapes it (Stripe-like: `POST /v1/charges` with an
 * `Idempotency-Key` header; the same key returns the stored result, never a second charge).
 */
export interface ChargeRequest {
  readonly orderId: number;
  readonly buyer: string;
}
export interface ChargeResult {
  readonly chargeId: string;
  readonly status: "succeeded" | "failed";
  /** True when the provider answered from its idempotency store. */
  readonly replayed: boolean;
  readonly failureReason: string | null;
}

const chargeResult = z.object({
  chargeId: z.string(),
  status: z.enum(["succeeded", "failed"]),
  replayed: z.boolean(),
  failureReason: z.string().nullable(),
});

/** Options of {@link startPaymentSimulator}. */
export interface PaymentSimulatorOptions {
  /** Share of charges declined (0..1), decided from the idempotency key and `seed`. */
  readonly failureRate?: number;
  /** Buyers whose name starts with this are always declined (a test card). Default `declined`. */
  readonly declinedBuyerPrefix?: string;
  readonly latencyMs?: number;
  readonly seed?: number;
  readonly port?: number;
}

/** The running simulator and what it saw. */
export interface PaymentSimulator {
  readonly url: string;
  /** Charge requests received, replays included. */
  readonly requests: number;
  /** Charges made, per idempotency key (a replay does not add one). */
  readonly charges: ReadonlyMap<string, ChargeResult>;
  close(): Promise<void>;
}

/** A local payment provider on 127.0.0.1 with configurable latency and failure rate. */
export async function startPaymentSimulator(
  options: PaymentSimulatorOptions = {},
): Promise<PaymentSimulator> {
  const failureRate = options.failureRate ?? 0;
  if (!(failureRate >= 0 && failureRate <= 1))
    throw new SluiceError(
      "CONFIG",
      `payment.failureRate must be within 0..1, got ${failureRate}`,
    );
  const declined = options.declinedBuyerPrefix ?? "declined";
  const latencyMs = options.latencyMs ?? 0;
  const seed = options.seed ?? 1;
  const charges = new Map<string, ChargeResult>();
  let requests = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const answer = (status: number, body: unknown): void => {
        setTimeout(() => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(body));
        }, latencyMs);
      };
      if (req.method !== "POST" || req.url !== "/v1/charges")
        return answer(404, { error: "not found" });
      const key = req.headers["idempotency-key"];
      if (typeof key !== "string" || key === "")
        return answer(400, { error: "Idempotency-Key header is required" });
      let body: ChargeRequest;
      try {
        body = JSON.parse(
          Buffer.concat(chunks).toString("utf8"),
        ) as ChargeRequest;
      } catch {
        return answer(400, { error: "body is not JSON" });
      }
      requests += 1;
      const stored = charges.get(key);
      if (stored !== undefined)
        return answer(200, { ...stored, replayed: true });
      const draw =
        parseInt(
          createHash("sha256")
            .update(`${seed}:${key}`)
            .digest("hex")
            .slice(0, 8),
          16,
        ) / 0xffffffff;
      const fail = body.buyer.startsWith(declined) || draw < failureRate;
      const result: ChargeResult = {
        chargeId: `ch_${createHash("sha256").update(key).digest("hex").slice(0, 16)}`,
        status: fail ? "failed" : "succeeded",
        replayed: false,
        failureReason: fail ? "card_declined" : null,
      };
      charges.set(key, result);
      answer(200, result);
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, "127.0.0.1", resolve),
  );
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    charges,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Typed client of the provider: one call per charge, the idempotency key per order. */
export interface PaymentClient {
  charge(request: ChargeRequest, idempotencyKey: string): Promise<ChargeResult>;
}

/** A {@link PaymentClient} over HTTP; errors are retryable `UNAVAILABLE`/`TIMEOUT`. */
export function httpPaymentClient(
  baseUrl: string,
  options: { readonly timeoutMs?: number } = {},
): PaymentClient {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  return {
    charge: (body, idempotencyKey) =>
      new Promise<ChargeResult>((resolve, reject) => {
        const payload = JSON.stringify(body);
        const req = request(
          `${baseUrl}/v1/charges`,
          {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "idempotency-key": idempotencyKey,
              "content-length": Buffer.byteLength(payload),
            },
            timeout: timeoutMs,
            agent,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
              const text = Buffer.concat(chunks).toString("utf8");
              if (res.statusCode !== 200)
                return reject(
                  new SluiceError(
                    "UNAVAILABLE",
                    `payment provider answered ${res.statusCode}: ${text}`,
                    { retryable: (res.statusCode ?? 500) >= 500 },
                  ),
                );
              const parsed = chargeResult.safeParse(JSON.parse(text));
              if (!parsed.success)
                return reject(
                  new SluiceError(
                    "VALIDATE",
                    `payment provider answer: ${parsed.error.message}`,
                  ),
                );
              resolve(parsed.data);
            });
          },
        );
        req.on("timeout", () =>
          req.destroy(
            new SluiceError(
              "TIMEOUT",
              `payment provider took longer than ${timeoutMs} ms`,
              {
                retryable: true,
              },
            ),
          ),
        );
        req.on("error", (e) =>
          reject(
            e instanceof SluiceError
              ? e
              : new SluiceError(
                  "UNAVAILABLE",
                  `payment provider: ${e.message}`,
                  {
                    retryable: true,
                    cause: e,
                  },
                ),
          ),
        );
        req.end(payload);
      }),
  };
}

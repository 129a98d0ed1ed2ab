import type { IncomingMessage, ServerResponse } from "node:http";
import { startLocalHttpServer } from "../../../connectors/internal/local-http-server.js";
import type {
  WhatsAppErrorBody,
  WhatsAppSendResponse,
  WhatsAppTemplateRequest,
} from "./client.js";
import { seededRandom } from "../../../operators/internal/random.js";

/** Options of {@link startWhatsAppSimulator}. */
export interface WhatsAppSimulatorOptions {
  /** Added to every answer, ms. Default 0. */
  readonly latencyMs?: number;
  /** Fraction of valid requests answered with an error, 0..1. Default 0. */
  readonly failureRate?: number;
  /** The error: `500` (code 131000, something went wrong), `429` (code 130429, throttled) or `mixed`. Default `mixed`. */
  readonly failure?: "500" | "429" | "mixed";
  /** Seed of the failure draws. Default 1. */
  readonly seed?: number;
  /** The token the simulator accepts. Default `test-token`. */
  readonly accessToken?: string;
  /** The phone number id it serves. Default `1000000001`. */
  readonly phoneNumberId?: string;
}

/** One message the simulator accepted. */
export interface SimulatedMessage {
  readonly id: string;
  readonly request: WhatsAppTemplateRequest;
}

/** A running simulator. */
export interface WhatsAppSimulator {
  /** Base URL for {@link whatsAppClient} (`http://127.0.0.1:port`). */
  readonly baseUrl: string;
  readonly phoneNumberId: string;
  readonly accessToken: string;
  readonly accepted: readonly SimulatedMessage[];
  /** Requests answered with an injected failure. */
  readonly failed: number;
  /** Accepted messages per recipient (`to`). */
  countByRecipient(): ReadonlyMap<string, number>;
  setFailureRate(rate: number): void;
  close(): Promise<void>;
}

function error(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  type = "OAuthException",
): void {
  const body: WhatsAppErrorBody = {
    error: { message, type, code, fbtrace_id: "sim" },
  };
  res
    .writeHead(status, { "content-type": "application/json" })
    .end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A local stand-in for the WhatsApp Cloud API messages endpoint on 127.0.0.1 (port 0):
 * checks the Bearer token, the path's version and phone number id and the template body as
 * the real API does, answers with `messages[0].id` (a `wamid.`), and fails a seeded
 * fraction of requests with the real API's 500/429 error shapes, after `latencyMs`.
 *
 * @example
 * ```ts
 * const sim = await startWhatsAppSimulator({ latencyMs: 20, failureRate: 0.2 });
 * const wa = whatsAppClient({ baseUrl: sim.baseUrl, phoneNumberId: sim.phoneNumberId, accessToken: sim.accessToken });
 * ```
 */
export async function startWhatsAppSimulator(
  options: WhatsAppSimulatorOptions = {},
): Promise<WhatsAppSimulator> {
  const accessToken = options.accessToken ?? "test-token";
  const phoneNumberId = options.phoneNumberId ?? "1000000001";
  const latencyMs = options.latencyMs ?? 0;
  let failureRate = options.failureRate ?? 0;
  const random = seededRandom(options.seed ?? 1);
  const accepted: SimulatedMessage[] = [];
  let failed = 0;
  let seq = 0;
  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> => {
    const raw = await readBody(req);
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    const path = /^\/(v\d+\.\d+)\/(\d+)\/messages$/.exec(req.url ?? "");
    if (req.method !== "POST" || path === null)
      return error(res, 404, 803, `Unknown path components: ${req.url ?? ""}`);
    if (req.headers.authorization !== `Bearer ${accessToken}`)
      return error(
        res,
        401,
        190,
        "Invalid OAuth access token - Cannot parse access token",
      );
    if (path[2] !== phoneNumberId)
      return error(
        res,
        400,
        100,
        `Unsupported post request. Object with ID '${path[2]}' does not exist`,
        "GraphMethodException",
      );
    let body: Partial<WhatsAppTemplateRequest>;
    try {
      body = JSON.parse(raw) as Partial<WhatsAppTemplateRequest>;
    } catch {
      return error(res, 400, 100, "(#100) Invalid JSON");
    }
    if (body.messaging_product !== "whatsapp")
      return error(
        res,
        400,
        100,
        "(#100) The parameter messaging_product is required.",
      );
    if (typeof body.to !== "string" || !/^\d{7,15}$/.test(body.to))
      return error(
        res,
        400,
        131009,
        "(#131009) Parameter value is not valid: to",
      );
    if (
      body.type !== "template" ||
      typeof body.template?.name !== "string" ||
      typeof body.template.language?.code !== "string"
    )
      return error(
        res,
        400,
        131008,
        "(#131008) Required parameter is missing: template",
      );
    if (failureRate > 0 && random() < failureRate) {
      failed += 1;
      const kind = options.failure ?? "mixed";
      const throttle = kind === "429" || (kind === "mixed" && failed % 2 === 0);
      return throttle
        ? error(res, 429, 130429, "(#130429) Rate limit hit")
        : error(res, 500, 131000, "(#131000) Something went wrong");
    }
    const id = `wamid.SIM${String(++seq).padStart(10, "0")}`;
    accepted.push({ id, request: body as WhatsAppTemplateRequest });
    const ok: WhatsAppSendResponse = {
      messaging_product: "whatsapp",
      contacts: [{ input: body.to, wa_id: body.to }],
      messages: [{ id, message_status: "accepted" }],
    };
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify(ok));
  };
  const server = await startLocalHttpServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  return {
    baseUrl: server.baseUrl,
    phoneNumberId,
    accessToken,
    accepted,
    get failed() {
      return failed;
    },
    countByRecipient() {
      const out = new Map<string, number>();
      for (const m of accepted)
        out.set(m.request.to, (out.get(m.request.to) ?? 0) + 1);
      return out;
    },
    setFailureRate(rate) {
      failureRate = rate;
    },
    close: () => server.close(),
  };
}

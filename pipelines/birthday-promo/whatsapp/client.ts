import { SluiceError } from "../../../operators/sluice-error.js";
import {
  keyDigest,
  type ActionKey,
} from "../../../connectors/fanout/action-log.js";
import {
  UnknownOutcomeError,
  type Sender,
} from "../../../connectors/fanout/sender.js";

/** A template component parameter (WhatsApp Cloud API `components[].parameters[]`). */
export interface TemplateParameter {
  readonly type: "text";
  readonly text: string;
}

/** The `template` object of a template message. */
export interface WhatsAppTemplate {
  readonly name: string;
  readonly language: { readonly code: string };
  readonly components?: readonly {
    readonly type: "header" | "body" | "button";
    readonly parameters: readonly TemplateParameter[];
  }[];
}

/** Body of `POST /{version}/{phone-number-id}/messages` for a template message. */
export interface WhatsAppTemplateRequest {
  readonly messaging_product: "whatsapp";
  readonly recipient_type: "individual";
  /** Recipient phone number (E.164 digits; a leading + is accepted). */
  readonly to: string;
  readonly type: "template";
  readonly template: WhatsAppTemplate;
  /** Echoed in status webhooks; we put the action key's digest here. */
  readonly biz_opaque_callback_data?: string;
}

/** Success body of the messages endpoint. */
export interface WhatsAppSendResponse {
  readonly messaging_product: "whatsapp";
  readonly contacts: readonly {
    readonly input: string;
    readonly wa_id: string;
  }[];
  readonly messages: readonly {
    readonly id: string;
    readonly message_status?: string;
  }[];
}

/** Error body of the Graph API. */
export interface WhatsAppErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly code: number;
    readonly error_subcode?: number;
    readonly fbtrace_id?: string;
  };
}

/** Options of {@link whatsAppClient}. */
export interface WhatsAppClientOptions {
  /** `https://graph.facebook.com` for the real API; the simulator's URL in tests. */
  readonly baseUrl: string;
  /** Graph API version. Default `v21.0`. */
  readonly version?: string;
  readonly phoneNumberId: string;
  /** System-user access token; a secret (`reveal()`), never logged. */
  readonly accessToken: string | { reveal(): string };
  /** Per-request timeout. Default 10 000. */
  readonly timeoutMs?: number;
}

/** A WhatsApp template message to one user. */
export interface WhatsAppMessage {
  readonly to: string;
  readonly template: WhatsAppTemplate;
}

/** Graph API error codes that mean "try again later" (rate limits, temporary outages). */
const RETRYABLE_CODES = new Set([
  4, 80007, 130429, 131016, 131048, 131056, 133004,
]);

/**
 * Maps an HTTP status and Graph API error to a {@link SluiceError}: 429, 5xx and the
 * throttling codes are retryable; other 4xx (bad number, template missing, auth) are not.
 *
 * @example
 * ```ts
 * throw classifyWhatsAppError(429, body, "whatsapp send");
 * ```
 */
export function classifyWhatsAppError(
  status: number,
  body: WhatsAppErrorBody | undefined,
  what: string,
): SluiceError {
  const code = body?.error.code;
  const message = `${what}: HTTP ${status}${code !== undefined ? ` code ${code}` : ""}: ${body?.error.message ?? "no error body"}`;
  if (status === 401 || status === 403)
    return new SluiceError("CONFIG", message);
  if (status === 429 || (code !== undefined && RETRYABLE_CODES.has(code)))
    return new SluiceError("RATE_LIMITED", message, { retryable: true });
  if (status >= 500)
    return new SluiceError("UNAVAILABLE", message, { retryable: true });
  return new SluiceError("VALIDATE", message);
}

/**
 * A typed client of the WhatsApp Cloud API messages endpoint (`POST
 * /{version}/{phone-number-id}/messages`, Bearer token), as a fan-out {@link Sender}. The
 * Cloud API takes no idempotency key, so `idempotentByKey` is false and an unconfirmed send
 * is an unknown outcome; the key's digest travels in `biz_opaque_callback_data` so the
 * status webhooks can be matched to the action log.
 *
 * @example
 * ```ts
 * const wa = whatsAppClient({ baseUrl: "https://graph.facebook.com", phoneNumberId: "1234567890", accessToken: secret });
 * await wa.send({ to: "+628123456789", template: { name: "birthday_promo", language: { code: "id" } } }, key);
 * ```
 */
export function whatsAppClient(
  options: WhatsAppClientOptions,
): Sender<WhatsAppMessage> & {
  readonly endpoint: string;
} {
  if (!/^\d+$/.test(options.phoneNumberId))
    throw new SluiceError(
      "CONFIG",
      `whatsapp.phoneNumberId must be digits (got ${JSON.stringify(options.phoneNumberId)})`,
    );
  const version = options.version ?? "v21.0";
  const endpoint = `${options.baseUrl.replace(/\/$/, "")}/${version}/${options.phoneNumberId}/messages`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const token = (): string =>
    typeof options.accessToken === "string"
      ? options.accessToken
      : options.accessToken.reveal();
  return {
    provider: "whatsapp",
    idempotentByKey: false,
    endpoint,
    async send(message, key: ActionKey) {
      const body: WhatsAppTemplateRequest = {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to: message.to.replace(/^\+/, ""),
        type: "template",
        template: message.template,
        biz_opaque_callback_data: keyDigest(key),
      };
      const what = `whatsapp send to ${message.to}`;
      let res: Response;
      try {
        res = await fetch(endpoint, {
          method: "POST",
          headers: {
            authorization: `Bearer ${token()}`,
            "content-type": "application/json",
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const name = error instanceof Error ? error.name : "";
        // A request that timed out may have been accepted; a refused connection was not.
        if (name === "TimeoutError" || name === "AbortError")
          throw new UnknownOutcomeError(
            `${what}: no answer within ${timeoutMs} ms`,
            { cause: error },
          );
        throw new SluiceError(
          "CONNECTION",
          `${what}: ${error instanceof Error ? error.message : String(error)}`,
          {
            retryable: true,
            cause: error,
          },
        );
      }
      const text = await res.text();
      let json: unknown;
      try {
        json = text === "" ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (!res.ok)
        throw classifyWhatsAppError(
          res.status,
          json as WhatsAppErrorBody | undefined,
          what,
        );
      const ok = json as WhatsAppSendResponse | undefined;
      const id = ok?.messages[0]?.id;
      if (id === undefined)
        throw new UnknownOutcomeError(
          `${what}: HTTP ${res.status} without a message id`,
        );
      return { providerId: id };
    },
  };
}

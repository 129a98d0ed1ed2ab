import { z } from "zod";
import { SluiceError } from "../../../operators/sluice-error.js";
import {
  callJsonRetrying,
  HttpApiError,
  retryOptions,
  type FetchLike,
  type JsonApi,
  type RetryOptions,
} from "../http.js";
import type { EnrichedPerson } from "../types.js";

/** Options of {@link EnrichmentClient}. */
export interface EnrichmentClientOptions {
  /** Default `https://person.clearbit.com`. */
  readonly baseUrl?: string;
  /** Secret API key, sent as a Bearer token, never logged. */
  readonly apiKey: string;
  /** Per request. Default 10 000. */
  readonly timeoutMs?: number;
  /** 202 (queued), 429 and 5xx are retried. Default `{ maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5 000 }`. */
  readonly retry?: Partial<RetryOptions>;
  readonly fetch?: FetchLike;
}

const handle = z
  .object({ handle: z.string().nullable().optional() })
  .nullable()
  .optional();
const combinedSchema = z.object({
  person: z
    .object({
      email: z.string().optional(),
      name: z
        .object({
          givenName: z.string().nullable().optional(),
          familyName: z.string().nullable().optional(),
        })
        .nullable()
        .optional(),
      avatar: z.string().nullable().optional(),
      employment: z
        .object({
          title: z.string().nullable().optional(),
          domain: z.string().nullable().optional(),
        })
        .nullable()
        .optional(),
      linkedin: handle,
    })
    .nullable()
    .optional(),
  company: z
    .object({
      name: z.string(),
      domain: z.string().nullable().optional(),
      linkedin: handle,
      metrics: z
        .object({ employees: z.number().int().nullable().optional() })
        .nullable()
        .optional(),
    })
    .nullable()
    .optional(),
});

const linkedin = (h: string | null | undefined): string | null =>
  h === null || h === undefined || h === ""
    ? null
    : `https://www.linkedin.com/${h}`;

/**
 * A typed client of a Clearbit-Combined-shaped enrichment API (see `api.ts`): one lookup by
 * email, person and company mapped to the pipeline's {@link EnrichedPerson}.
 *
 * @example
 * ```ts
 * const enrich = new EnrichmentClient({ apiKey: ctx.config.enrichmentApiKey.reveal() });
 * const person = await enrich.findByEmail("alex@acme.example"); // null when unknown
 * ```
 */
export class EnrichmentClient {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #api: JsonApi;

  constructor(options: EnrichmentClientOptions) {
    if (options.apiKey === "")
      throw new TypeError("enrichment.apiKey must not be empty");
    this.#baseUrl = (options.baseUrl ?? "https://person.clearbit.com").replace(
      /\/$/,
      "",
    );
    this.#apiKey = options.apiKey;
    this.#api = {
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      timeoutMs: options.timeoutMs ?? 10_000,
      retry: retryOptions(options.retry),
      errorOf: (body) => ({
        reason: errorType(body),
        message: errorMessage(body),
      }),
    };
  }

  /** Prints without the key. */
  toJSON(): object {
    return { baseUrl: this.#baseUrl };
  }

  /**
   * What the API knows about `email`; null when it knows nobody (404) or nothing useful.
   * A 422 (invalid email) throws a non-retryable VALIDATE error for the dead letter.
   */
  async findByEmail(email: string): Promise<EnrichedPerson | null> {
    const url = `${this.#baseUrl}/v2/combined/find?${new URLSearchParams({ email }).toString()}`;
    const api = "enrichment combined/find";
    const { status, body } = await callJsonRetrying(
      this.#api,
      api,
      url,
      {
        method: "GET",
        headers: {
          authorization: `Bearer ${this.#apiKey}`,
          accept: "application/json",
        },
      },
      {
        accept: [200, 404],
        retryAlso: (status) => {
          if (status === 202)
            throw new HttpApiError(
              api,
              503,
              "queued",
              "202 lookup queued, asking again",
            );
        },
      },
    );
    if (status === 404) return null;
    const parsed = combinedSchema.safeParse(body);
    if (!parsed.success)
      throw new SluiceError(
        "DECODE",
        `${api}: unexpected answer for one email: ${parsed.error.message}`,
      );
    const { person, company } = parsed.data;
    if (
      (person === null || person === undefined) &&
      (company === null || company === undefined)
    )
      return null;
    return {
      email,
      firstName: person?.name?.givenName ?? null,
      lastName: person?.name?.familyName ?? null,
      avatar: person?.avatar ?? null,
      title: person?.employment?.title ?? null,
      linkedinUrl: linkedin(person?.linkedin?.handle),
      company:
        company === null || company === undefined
          ? null
          : {
              name: company.name,
              domain: company.domain ?? null,
              linkedinUrl: linkedin(company.linkedin?.handle),
              employees: company.metrics?.employees ?? null,
            },
    };
  }
}

function errorType(body: unknown): string | undefined {
  const t = (body as { error?: { type?: unknown } } | undefined)?.error?.type;
  return typeof t === "string" ? t : undefined;
}

function errorMessage(body: unknown): string {
  const m = (body as { error?: { message?: unknown } } | undefined)?.error
    ?.message;
  return typeof m === "string" ? m : "error";
}

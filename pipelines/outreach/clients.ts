/**
 * Typed clients of the three outside services of seeds/000. Every call sends the API key as
 * `Authorization: Bearer <key>` (the key comes from a Secret and is never logged), has a
 * timeout, and retries 5xx/429/network failures with backoff (`RetryPolicy`).
 *
 * Request/response shapes (JSON):
 *
 * | service | call | request | response |
 * | --- | --- | --- | --- |
 * | segment (BAR) | `GET /v1/schedules:active/segments` | — | `{ segments: [{ segmentId, scheduleId, processedAt: string \| null }] }` |
 * | segment (BAR) | `PUT /v1/segments/{segmentId}/processedAt` | `{ processedAt: ISO string, firingId }` | `204` |
 * | evaluation (BAR) | `POST /v1/segments/{segmentId}/evaluations:batch` | `{ firingId, jobIds: string[] }` (≤ 1000) | `{ evaluations: [{ jobId, actionId, templateId, subject, recipientEmail: string \| null }] }` (jobs with nothing due are left out) |
 * | job service (ICEE) | `GET /v1/segments/{segmentId}/jobs?pageSize=N&pageToken=T` | — | `{ jobIds: string[], nextPageToken: string \| null }` |
 * | outreach | `POST /v1/emails:batch` | `{ emails: [{ idempotencyKey, to, templateId, subject, metadata: { jobId, actionId } }] }` (≤ 500) | `{ results: [{ idempotencyKey, status: "ACCEPTED" \| "DUPLICATE" \| "REJECTED", messageId?, reason? }] }` |
 *
 * The outreach service deduplicates by `idempotencyKey` (a repeated key answers `DUPLICATE` with
 * the first message id and sends nothing), and later reports each accepted email's outcome
 * (`DELIVERED`/`FAILED` with a timestamp) on the results topic.
 */
import type { Secret } from "../../runtime/config.js";
import { callJson, DEFAULT_RETRY, type RetryPolicy } from "./http.js";

/** Where a client calls and how. */
export interface ServiceEndpoint {
  readonly baseUrl: string;
  readonly apiKey: Secret;
  readonly timeoutMs?: number;
  readonly retry?: RetryPolicy;
}

export interface ActiveSegment {
  readonly segmentId: string;
  readonly scheduleId: string;
  readonly processedAt: string | null;
}

export interface Evaluation {
  readonly jobId: string;
  readonly actionId: string;
  readonly templateId: string;
  readonly subject: string;
  readonly recipientEmail: string | null;
}

export interface JobIdsPage {
  readonly jobIds: readonly string[];
  readonly nextPageToken: string | null;
}

export interface EmailRequest {
  readonly idempotencyKey: string;
  readonly to: string;
  readonly templateId: string;
  readonly subject: string;
  readonly metadata: { readonly jobId: string; readonly actionId: string };
}

export type EmailAnswer =
  | {
      readonly idempotencyKey: string;
      readonly status: "ACCEPTED" | "DUPLICATE";
      readonly messageId: string;
    }
  | {
      readonly idempotencyKey: string;
      readonly status: "REJECTED";
      readonly reason: string;
    };

function base(e: ServiceEndpoint): {
  apiKey: Secret;
  retry: RetryPolicy;
  timeoutMs: number;
} {
  return {
    apiKey: e.apiKey,
    retry: e.retry ?? DEFAULT_RETRY,
    timeoutMs: e.timeoutMs ?? 10_000,
  };
}

/**
 * The segment and evaluation service (BAR in the seed).
 *
 * @example
 * ```ts
 * const bar = new SegmentServiceClient({ baseUrl: "https://bar.internal", apiKey });
 * const segments = await bar.activeSegments();
 * ```
 */
export class SegmentServiceClient {
  constructor(private readonly endpoint: ServiceEndpoint) {}

  async activeSegments(): Promise<readonly ActiveSegment[]> {
    const r = await callJson<{ segments: ActiveSegment[] }>({
      service: "segment service",
      method: "GET",
      url: `${this.endpoint.baseUrl}/v1/schedules:active/segments`,
      ...base(this.endpoint),
    });
    return r.segments;
  }

  async evaluate(
    segmentId: string,
    firingId: string,
    jobIds: readonly string[],
  ): Promise<readonly Evaluation[]> {
    const r = await callJson<{ evaluations: Evaluation[] }>({
      service: "evaluation service",
      method: "POST",
      url: `${this.endpoint.baseUrl}/v1/segments/${encodeURIComponent(segmentId)}/evaluations:batch`,
      body: { firingId, jobIds },
      ...base(this.endpoint),
    });
    return r.evaluations;
  }

  async setProcessedAt(
    segmentId: string,
    processedAt: Date,
    firingId: string,
  ): Promise<void> {
    await callJson<undefined>({
      service: "segment service",
      method: "PUT",
      url: `${this.endpoint.baseUrl}/v1/segments/${encodeURIComponent(segmentId)}/processedAt`,
      body: { processedAt: processedAt.toISOString(), firingId },
      ...base(this.endpoint),
    });
  }
}

/**
 * The job service (ICEE in the seed): job ids of a segment, paginated.
 *
 * @example
 * ```ts
 * for await (const ids of new JobServiceClient(endpoint).jobIds("seg-1", 1000)) produce(ids);
 * ```
 */
export class JobServiceClient {
  constructor(private readonly endpoint: ServiceEndpoint) {}

  async page(
    segmentId: string,
    pageSize: number,
    pageToken: string | null,
  ): Promise<JobIdsPage> {
    const q = new URLSearchParams({ pageSize: String(pageSize) });
    if (pageToken !== null) q.set("pageToken", pageToken);
    return callJson<JobIdsPage>({
      service: "job service",
      method: "GET",
      url: `${this.endpoint.baseUrl}/v1/segments/${encodeURIComponent(segmentId)}/jobs?${q.toString()}`,
      ...base(this.endpoint),
    });
  }

  /** Every page of a segment, one request at a time (the next page token chains them). */
  async *jobIds(
    segmentId: string,
    pageSize: number,
  ): AsyncGenerator<readonly string[]> {
    let token: string | null = null;
    do {
      const p: JobIdsPage = await this.page(segmentId, pageSize, token);
      if (p.jobIds.length > 0) yield p.jobIds;
      token = p.nextPageToken;
    } while (token !== null);
  }
}

/**
 * The outreach (email sending) service.
 *
 * @example
 * ```ts
 * const answers = await new OutreachServiceClient(endpoint).send([{ idempotencyKey, to, templateId, subject, metadata }]);
 * ```
 */
export class OutreachServiceClient {
  constructor(private readonly endpoint: ServiceEndpoint) {}

  async send(emails: readonly EmailRequest[]): Promise<readonly EmailAnswer[]> {
    const r = await callJson<{ results: EmailAnswer[] }>({
      service: "outreach service",
      method: "POST",
      url: `${this.endpoint.baseUrl}/v1/emails:batch`,
      body: { emails },
      ...base(this.endpoint),
    });
    return r.results;
  }
}

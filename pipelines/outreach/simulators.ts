/**
 * Local simulators of the outside services (HTTP on 127.0.0.1), following the shapes in
 * `clients.ts`, with configurable latency and failure rate. Data is generated, so runs repeat:
 * segment `s` has `jobs` job ids `<s>-job-<i>`; job `i` is evaluated to one action whose
 * email is `job<i>@<segment>.example.test`, with bad rows every `missingEmailEvery` /
 * `unknownTemplateEvery` jobs.
 */
import { createHash } from "node:crypto";
import type { DeliveryResult } from "./types.js";
import {
  startJsonServer,
  type ChaosOptions,
  type SimulatorServer,
} from "./http.js";
import type { EmailAnswer, EmailRequest, Evaluation } from "./clients.js";

/** One segment of an active schedule, and how many job ids the job service has for it. */
export interface SimulatedSegment {
  readonly segmentId: string;
  readonly scheduleId: string;
  readonly jobs: number;
}

/** Templates the simulated outreach service knows. */
export const KNOWN_TEMPLATES = ["job-alert", "application-reminder"] as const;

/** Options of {@link startSegmentServiceSimulator}. */
export interface SegmentSimulatorOptions extends ChaosOptions {
  readonly apiKey: string;
  readonly segments: readonly SimulatedSegment[];
  /** Every n-th job (1-based index divisible by n) has no email. 0 = never. */
  readonly missingEmailEvery?: number;
  /** Every n-th job is evaluated to a template the outreach service does not know. 0 = never. */
  readonly unknownTemplateEvery?: number;
  readonly port?: number;
}

/** A running segment/evaluation simulator and what it was asked. */
export interface SegmentSimulator extends SimulatorServer {
  /** processedAt per segment id (ISO), as last set. */
  readonly processedAt: ReadonlyMap<string, string>;
  /** Evaluation calls answered. */
  readonly evaluationCalls: number;
}

const jobIndex = (jobId: string): number => {
  const i = jobId.lastIndexOf("-job-");
  return i < 0 ? Number.NaN : Number(jobId.slice(i + 5));
};

/**
 * The evaluation a simulated job gets (also used by tests to predict the outcome).
 *
 * @example
 * ```ts
 * simulatedEvaluation("seg-1-job-7", { missingEmailEvery: 7 }).recipientEmail; // null
 * ```
 */
export function simulatedEvaluation(
  jobId: string,
  options: { missingEmailEvery?: number; unknownTemplateEvery?: number } = {},
): Evaluation {
  const i = jobIndex(jobId);
  const me = options.missingEmailEvery ?? 0;
  const ut = options.unknownTemplateEvery ?? 0;
  const segment = jobId.slice(0, Math.max(0, jobId.lastIndexOf("-job-")));
  return {
    jobId,
    actionId: i % 2 === 0 ? "act-new-matches" : "act-apply-reminder",
    templateId:
      ut > 0 && i % ut === 0
        ? "retired-template"
        : (KNOWN_TEMPLATES[i % 2] ?? "job-alert"),
    subject: i % 2 === 0 ? "New jobs for you" : "Finish your application",
    recipientEmail:
      me > 0 && i % me === 0 ? null : `job${i}@${segment}.example.test`,
  };
}

/**
 * The segment and evaluation service (BAR): active segments, evaluations, processedAt.
 *
 * @example
 * ```ts
 * const bar = await startSegmentServiceSimulator({ apiKey: "k", segments: [{ segmentId: "seg-1", scheduleId: "s", jobs: 10 }] });
 * ```
 */
export async function startSegmentServiceSimulator(
  options: SegmentSimulatorOptions,
): Promise<SegmentSimulator> {
  const processedAt = new Map<string, string>();
  let evaluationCalls = 0;
  const server = await startJsonServer({
    name: "segment service",
    apiKey: options.apiKey,
    ...(options.port === undefined ? {} : { port: options.port }),
    chaos: options,
    route: (req, body, url) => {
      if (
        req.method === "GET" &&
        url.pathname === "/v1/schedules:active/segments"
      )
        return {
          status: 200,
          body: {
            segments: options.segments.map((s) => ({
              segmentId: s.segmentId,
              scheduleId: s.scheduleId,
              processedAt: processedAt.get(s.segmentId) ?? null,
            })),
          },
        };
      const m =
        /^\/v1\/segments\/([^/]+)\/(evaluations:batch|processedAt)$/.exec(
          url.pathname,
        );
      if (m === null) return { status: 404, body: { error: "no such route" } };
      const segmentId = decodeURIComponent(m[1] ?? "");
      if (!options.segments.some((s) => s.segmentId === segmentId))
        return { status: 404, body: { error: `no segment ${segmentId}` } };
      if (m[2] === "processedAt" && req.method === "PUT") {
        const at = (body as { processedAt?: unknown }).processedAt;
        if (typeof at !== "string")
          return {
            status: 400,
            body: { error: "processedAt must be a string" },
          };
        processedAt.set(segmentId, at);
        return { status: 204 };
      }
      if (m[2] === "evaluations:batch" && req.method === "POST") {
        const ids = (body as { jobIds?: unknown }).jobIds;
        if (!Array.isArray(ids) || ids.length > 1000)
          return {
            status: 400,
            body: { error: "jobIds must be an array of at most 1000" },
          };
        evaluationCalls++;
        return {
          status: 200,
          body: {
            evaluations: (ids as string[]).map((id) =>
              simulatedEvaluation(id, options),
            ),
          },
        };
      }
      return { status: 405, body: { error: "method not allowed" } };
    },
  });
  return {
    ...server,
    processedAt,
    get evaluationCalls() {
      return evaluationCalls;
    },
  };
}

/** Options of {@link startJobServiceSimulator}. */
export interface JobSimulatorOptions extends ChaosOptions {
  readonly apiKey: string;
  readonly segments: readonly SimulatedSegment[];
  readonly port?: number;
}

/**
 * The job service (ICEE): job ids of a segment, paginated by an opaque offset token.
 *
 * @example
 * ```ts
 * const icee = await startJobServiceSimulator({ apiKey: "k", segments });
 * ```
 */
export async function startJobServiceSimulator(
  options: JobSimulatorOptions,
): Promise<SimulatorServer> {
  return startJsonServer({
    name: "job service",
    apiKey: options.apiKey,
    ...(options.port === undefined ? {} : { port: options.port }),
    chaos: options,
    route: (req, _body, url) => {
      const m = /^\/v1\/segments\/([^/]+)\/jobs$/.exec(url.pathname);
      if (m === null || req.method !== "GET")
        return { status: 404, body: { error: "no such route" } };
      const segmentId = decodeURIComponent(m[1] ?? "");
      const seg = options.segments.find((s) => s.segmentId === segmentId);
      if (seg === undefined)
        return { status: 404, body: { error: `no segment ${segmentId}` } };
      const size = Number(url.searchParams.get("pageSize") ?? "1000");
      if (!Number.isInteger(size) || size < 1 || size > 10_000)
        return { status: 400, body: { error: "pageSize must be 1…10000" } };
      const from = Number(url.searchParams.get("pageToken") ?? "0");
      const to = Math.min(seg.jobs, from + size);
      const jobIds: string[] = [];
      for (let i = from; i < to; i++) jobIds.push(`${segmentId}-job-${i + 1}`);
      return {
        status: 200,
        body: { jobIds, nextPageToken: to < seg.jobs ? String(to) : null },
      };
    },
  });
}

/** Options of {@link startOutreachServiceSimulator}. */
export interface OutreachSimulatorOptions extends ChaosOptions {
  readonly apiKey: string;
  /**
   * Receives the asynchronous delivery results (wire it to the results topic). Called once
   * per answered batch, `resultDelayMs` after it was accepted.
   */
  readonly onResults: (
    results: readonly DeliveryResult[],
  ) => Promise<void> | void;
  readonly resultDelayMs?: number;
  /** Share of accepted emails whose delivery fails (reported FAILED). Default 0. */
  readonly deliveryFailureRate?: number;
  /**
   * Share of calls that are processed but whose answer is lost (503 after sending): the
   * caller retries, and the idempotency key keeps it from sending twice. Default 0.
   */
  readonly lostAnswerRate?: number;
  readonly port?: number;
  /**
   * Called once per batch after its emails are accepted (and counted as sent), before the
   * answer is written: a test kills the caller here to leave emails sent and never answered.
   */
  readonly beforeAnswer?: (call: {
    /** Idempotency keys of the emails accepted in this call. */
    readonly accepted: readonly string[];
  }) => void;
}

/** A running outreach simulator and its counts. */
export interface OutreachSimulator extends SimulatorServer {
  /** Emails sent (one per distinct idempotency key). */
  readonly sent: number;
  /** Emails sent per recipient address (to check "exactly one email each"). */
  readonly perRecipient: ReadonlyMap<string, number>;
  /** Requests answered DUPLICATE. */
  readonly duplicates: number;
  /** Emails rejected (unknown template, bad address). */
  readonly rejected: number;
  /** Results handed to `onResults` and not yet confirmed by it. */
  readonly pendingResults: number;
  /** Waits until every result has been handed over. */
  drained(): Promise<void>;
}

const messageIdOf = (key: string): string =>
  `msg-${createHash("sha1").update(key).digest("hex").slice(0, 20)}`;

/**
 * The outreach service: accepts batches of emails, deduplicates by idempotency key, and
 * reports each accepted email's outcome asynchronously through `onResults`.
 *
 * @example
 * ```ts
 * const out = await startOutreachServiceSimulator({ apiKey: "k", onResults: (rs) => produce(rs) });
 * ```
 */
export async function startOutreachServiceSimulator(
  options: OutreachSimulatorOptions,
): Promise<OutreachSimulator> {
  const random = options.random ?? Math.random;
  const seen = new Set<string>();
  const perRecipient = new Map<string, number>();
  let duplicates = 0;
  let rejected = 0;
  let pending = 0;
  let waiters: (() => void)[] = [];
  const settle = (n: number): void => {
    pending -= n;
    if (pending === 0) {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    }
  };
  const deliver = (results: DeliveryResult[]): void => {
    pending += results.length;
    setTimeout(() => {
      void (async () => {
        for (;;) {
          try {
            await options.onResults(results);
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        settle(results.length);
      })();
    }, options.resultDelayMs ?? 5);
  };
  const server = await startJsonServer({
    name: "outreach service",
    apiKey: options.apiKey,
    ...(options.port === undefined ? {} : { port: options.port }),
    chaos: options,
    route: (req, body, url) => {
      if (req.method !== "POST" || url.pathname !== "/v1/emails:batch")
        return { status: 404, body: { error: "no such route" } };
      const emails = (body as { emails?: unknown }).emails;
      if (!Array.isArray(emails) || emails.length > 500)
        return {
          status: 400,
          body: { error: "emails must be an array of at most 500" },
        };
      const answers: EmailAnswer[] = [];
      const results: DeliveryResult[] = [];
      for (const e of emails as EmailRequest[]) {
        const messageId = messageIdOf(e.idempotencyKey);
        if (seen.has(e.idempotencyKey)) {
          duplicates++;
          answers.push({
            idempotencyKey: e.idempotencyKey,
            status: "DUPLICATE",
            messageId,
          });
          continue;
        }
        if (!(KNOWN_TEMPLATES as readonly string[]).includes(e.templateId)) {
          rejected++;
          answers.push({
            idempotencyKey: e.idempotencyKey,
            status: "REJECTED",
            reason: `unknown template "${e.templateId}"`,
          });
          continue;
        }
        if (typeof e.to !== "string" || !e.to.includes("@")) {
          rejected++;
          answers.push({
            idempotencyKey: e.idempotencyKey,
            status: "REJECTED",
            reason: "invalid recipient address",
          });
          continue;
        }
        seen.add(e.idempotencyKey);
        perRecipient.set(e.to, (perRecipient.get(e.to) ?? 0) + 1);
        answers.push({
          idempotencyKey: e.idempotencyKey,
          status: "ACCEPTED",
          messageId,
        });
        const failed = random() < (options.deliveryFailureRate ?? 0);
        results.push({
          idempotencyKey: e.idempotencyKey,
          messageId,
          status: failed ? "FAILED" : "DELIVERED",
          error: failed ? "mailbox unavailable (simulated bounce)" : null,
          completedAt: new Date(),
        });
      }
      if (results.length > 0) deliver(results);
      options.beforeAnswer?.({
        accepted: results.map((r) => r.idempotencyKey),
      });
      if (
        (options.lostAnswerRate ?? 0) > 0 &&
        random() < (options.lostAnswerRate ?? 0)
      )
        return {
          status: 503,
          body: { error: "outreach service answer lost (simulated)" },
        };
      return { status: 200, body: { results: answers } };
    },
  });
  return {
    ...server,
    get sent() {
      return seen.size;
    },
    perRecipient,
    get duplicates() {
      return duplicates;
    },
    get rejected() {
      return rejected;
    },
    get pendingResults() {
      return pending;
    },
    drained: () =>
      pending === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push(resolve)),
  };
}

import { lastValueFrom } from "rxjs";
import { ackAfter } from "../../operators/ack-after.js";
import type { Sink, Source } from "../../connectors/types.js";
import type { Record } from "../../operators/record.js";
import { SluiceError } from "../../operators/sluice-error.js";
import type { Logger } from "../../runtime/log.js";
import type {
  ActionEntry,
  ActionLog,
  ActionOutcome,
  PlannedAction,
} from "./action-log.js";
import { outreachCodecs } from "./avro.js";
import type {
  EmailRequest,
  OutreachServiceClient,
  SegmentServiceClient,
} from "./clients.js";
import type { BadRecordCounters } from "../../operators/dead-letter.js";
import {
  countDeadLetters,
  deadLetter,
  type DeadLetterInput,
} from "./dead-letters.js";
import { idempotencyKey, type JobIdPage } from "./types.js";

/** Counts of what the sender did (shared by progress, summaries and tests). */
export interface SenderStats {
  pages: number;
  jobs: number;
  /** Jobs whose action was already confirmed in an earlier run (nothing sent). */
  alreadyDone: number;
  /** Emails planned in this run. */
  planned: number;
  /** PLANNED entries of an earlier, interrupted run sent again under their key. */
  replayed: number;
  /** Emails the outreach service accepted (or had already, DUPLICATE). */
  sent: number;
  deadLettered: number;
}

export const newSenderStats = (): SenderStats => ({
  pages: 0,
  jobs: 0,
  alreadyDone: 0,
  planned: 0,
  replayed: 0,
  sent: 0,
  deadLettered: 0,
});

/** What the sender needs. */
export interface SenderDeps {
  readonly jobName: string;
  readonly source: Source<Buffer>;
  readonly actionLog: ActionLog;
  readonly evaluation: Pick<SegmentServiceClient, "evaluate">;
  readonly outreach: Pick<OutreachServiceClient, "send">;
  readonly deadLetters: Sink<Buffer>;
  readonly deadLetterTopic: string;
  readonly logger: Logger;
  readonly stats: SenderStats;
  /** Dead letters by reason code, for /metrics (`ctx.trackCounters`). */
  readonly badRecords?: BadRecordCounters;
  /** Pages processed at once. */
  readonly concurrency: number;
  /** Emails per outreach call (≤ 500). */
  readonly sendBatch: number;
  /** Test hook: called after each outreach call returned, before its outcome is recorded. */
  readonly afterSend?: (emails: number) => void;
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v), "utf8");

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/**
 * Handles one page of job ids: one bulk action-log lookup; the jobs without entries are
 * evaluated in one call, planned in one insert (bad rows are planned too and marked DEAD, so a
 * rerun does not report them again), then sent in batches; PLANNED entries left by an
 * interrupted run are sent again under the same idempotency key (the outreach service answers
 * DUPLICATE if it already has them). Bad rows and emails the outreach service rejects or that
 * exhaust the retries go to the dead-letter topic with the reason. An outage of the action log
 * or the evaluation service throws: the page is redelivered.
 */
export async function processPage(
  record: Record<Buffer>,
  deps: SenderDeps,
): Promise<void> {
  const s = deps.stats;
  const dead: DeadLetterInput[] = [];
  const decoded = outreachCodecs().jobPage.tryDecode(record.value);
  if (!decoded.ok) {
    dead.push({
      reasonCode: "DECODE",
      message: decoded.error.message,
      stage: "decode",
      job: deps.jobName,
      origin: record.origin,
      key: record.key ?? "",
      original: record.value,
    });
    await writeDead(dead, deps);
    return;
  }
  const page: JobIdPage = decoded.value;
  s.pages++;
  s.jobs += page.jobIds.length;
  const logged = await deps.actionLog.entries(page.firingId, page.jobIds);
  const fresh: string[] = [];
  const replay: ActionEntry[] = [];
  for (const jobId of page.jobIds) {
    const entries = logged.get(jobId);
    if (entries === undefined || entries.length === 0) fresh.push(jobId);
    else {
      const open = entries.filter((e) => e.state === "PLANNED");
      if (open.length === 0) s.alreadyDone++;
      replay.push(...open);
    }
  }
  const plans: PlannedAction[] = [];
  const outcomes: ActionOutcome[] = [];
  for (const batch of chunks(fresh, 1000)) {
    const evaluations = await deps.evaluation.evaluate(
      page.segmentId,
      page.firingId,
      batch,
    );
    for (const e of evaluations) {
      const plan: PlannedAction = {
        idempotencyKey: idempotencyKey(page.firingId, e.jobId, e.actionId),
        firingId: page.firingId,
        jobId: e.jobId,
        actionId: e.actionId,
        segmentId: page.segmentId,
        templateId: e.templateId,
        subject: e.subject,
        recipientEmail: e.recipientEmail ?? "",
      };
      plans.push(plan);
      if (e.recipientEmail === null || !e.recipientEmail.includes("@")) {
        const reason = `job ${e.jobId} (action ${e.actionId}) has no valid recipient email`;
        outcomes.push({
          idempotencyKey: plan.idempotencyKey,
          state: "DEAD",
          reason,
          at: new Date(),
        });
        dead.push({
          reasonCode: "VALIDATE",
          message: reason,
          stage: "validate",
          job: deps.jobName,
          origin: record.origin,
          key: plan.idempotencyKey,
          original: json(e),
        });
      }
    }
  }
  // Plan before send: once this insert returns, a crash can no longer lose or double an email.
  await deps.actionLog.plan(plans);
  s.planned += plans.length;
  s.replayed += replay.length;
  const deadKeys = new Set(outcomes.map((o) => o.idempotencyKey));
  const toSend: PlannedAction[] = [
    ...plans.filter((p) => !deadKeys.has(p.idempotencyKey)),
    ...replay,
  ];
  if (outcomes.length > 0) await deps.actionLog.record(outcomes);
  for (const batch of chunks(toSend, deps.sendBatch)) {
    const requests: EmailRequest[] = batch.map((p) => ({
      idempotencyKey: p.idempotencyKey,
      to: p.recipientEmail,
      templateId: p.templateId,
      subject: p.subject,
      metadata: { jobId: p.jobId, actionId: p.actionId },
    }));
    const confirmed: ActionOutcome[] = [];
    try {
      const answers = await deps.outreach.send(requests);
      deps.afterSend?.(requests.length);
      const at = new Date();
      for (const a of answers) {
        if (a.status === "REJECTED") {
          confirmed.push({
            idempotencyKey: a.idempotencyKey,
            state: "DEAD",
            reason: a.reason,
            at,
          });
          const req = requests.find(
            (r) => r.idempotencyKey === a.idempotencyKey,
          );
          dead.push({
            reasonCode: "VALIDATE",
            message: `outreach service rejected ${a.idempotencyKey}: ${a.reason}`,
            stage: "process",
            job: deps.jobName,
            origin: record.origin,
            key: a.idempotencyKey,
            original: json(req ?? a),
          });
        } else {
          s.sent++;
          confirmed.push({
            idempotencyKey: a.idempotencyKey,
            state: "SENT",
            messageId: a.messageId,
            at,
          });
        }
      }
    } catch (error) {
      if (
        !(error instanceof SluiceError) ||
        error.code !== "RETRY_BUDGET_EXHAUSTED"
      )
        throw error;
      const at = new Date();
      for (const r of requests) {
        confirmed.push({
          idempotencyKey: r.idempotencyKey,
          state: "DEAD",
          reason: error.message,
          at,
        });
        dead.push({
          reasonCode: "RETRY_BUDGET_EXHAUSTED",
          message: error.message,
          stage: "sink",
          job: deps.jobName,
          origin: record.origin,
          key: r.idempotencyKey,
          original: json(r),
          attempts: error.context.attempts ?? 1,
        });
      }
    }
    // Confirm after send.
    await deps.actionLog.record(confirmed);
  }
  await writeDead(dead, deps);
}

async function writeDead(
  dead: readonly DeadLetterInput[],
  deps: SenderDeps,
): Promise<void> {
  if (dead.length === 0) return;
  await deps.deadLetters.write(
    dead.map((d) => deadLetter(d, deps.deadLetterTopic)),
  );
  deps.stats.deadLettered += dead.length;
  if (deps.badRecords !== undefined) countDeadLetters(deps.badRecords, dead);
  deps.logger.warn("dead-lettered", {
    count: dead.length,
    first: dead[0]?.message,
  });
}

/**
 * The sender's stream: pages from the jobs topic, `concurrency` at a time; each page is acked
 * once every email in it is confirmed or dead-lettered, nacked (redelivered) when the action
 * log or the evaluation service is unavailable. Resolves when the source completes.
 *
 * @example
 * ```ts
 * await runSender(deps); // until the source is closed
 * ```
 */
export function runSender(deps: SenderDeps): Promise<number> {
  let done = 0;
  const pages = deps.source.records().pipe(
    // A page is acked once processPage resolves (every email confirmed or dead-lettered),
    // nacked (redelivered) when it rejects.
    ackAfter(
      (r) =>
        processPage(r, deps).then(() => {
          done++;
        }),
      {
        concurrency: deps.concurrency,
        onError: (e) =>
          deps.logger.warn("page failed, will be redelivered", { err: e }),
      },
    ),
  );
  return lastValueFrom(pages, { defaultValue: undefined }).then(() => done);
}

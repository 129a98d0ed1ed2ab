// `sluice run birthday-promo`: seeds/004 at 00:01 Asia/Jakarta.
import { lastValueFrom } from "rxjs";
import { ackAfter } from "../../../operators/ack-after.js";
import { SluiceError } from "../../../operators/sluice-error.js";
import { postgresActionLog } from "../../../connectors/fanout/postgres.js";
import { postgresDeadLetters } from "../../../connectors/postgres/dead-letters.js";
import { createPostgresPool } from "../../../connectors/postgres/pool.js";
import { postgresFiringStore } from "../../../connectors/schedule/postgres-store.js";
import { scheduleSource } from "../../../connectors/schedule/source.js";
import { smtpSenderOptions } from "../../../connectors/smtp/config.js";
import { smtpSender } from "../../../connectors/smtp/sender.js";
import { ConfigError } from "../../../runtime/config.js";
import { defineJob } from "../../../runtime/job.js";
import { birthdayPromoConfig } from "../config.js";
import { DEFAULT_SETTINGS, runBirthdayPromo } from "../run.js";
import { postgresPromoStores } from "../stores.js";
import { whatsAppClient } from "../whatsapp/client.js";
import { migrateAll } from "../wiring.js";

/**
 * The birthday promo: at 00:01 Asia/Jakarta, verified users whose birthday is today get
 * one promo and its eligibilities (one transaction), then one email and one WhatsApp each.
 * By default it runs once for the firing it was started for and exits (a K3s CronJob);
 * `mode: continuous` keeps it running as a Deployment.
 *
 * @example
 * ```sh
 * DATABASE_URL=postgres://sluice:sluice@127.0.0.1:5432/sluice \
 * SLUICE_JOB__SMTP__HOST=smtp.example.com SLUICE_JOB__SMTP__FROM=promo@example.com \
 * SLUICE_JOB__WHATSAPP__PHONE_NUMBER_ID=1234567890 SLUICE_JOB__WHATSAPP__ACCESS_TOKEN='{"env":"WA_TOKEN"}' \
 * sluice run birthday-promo
 * ```
 */
export default defineJob({
  name: "birthday-promo",
  description:
    "00:01 Asia/Jakarta: birthday promo, its eligibilities, email and WhatsApp, once each.",
  config: birthdayPromoConfig,
  async run(ctx) {
    const c = ctx.config;
    if (ctx.runtime.postgres === undefined)
      throw new ConfigError(["postgres.url must be set (or set DATABASE_URL)"]);
    const db = createPostgresPool({
      connectionString: ctx.runtime.postgres.url.reveal(),
      schema: c.schema,
    });
    ctx.onShutdown(() => db.end());
    await migrateAll(db, c.schema);
    const stores = postgresPromoStores(db, c.schema);
    const smtp = smtpSender(smtpSenderOptions(c.smtp));
    ctx.onShutdown(() => smtp.close());
    const whatsapp = whatsAppClient({
      baseUrl: c.whatsapp.baseUrl,
      version: c.whatsapp.version,
      phoneNumberId: c.whatsapp.phoneNumberId,
      accessToken: c.whatsapp.accessToken,
      timeoutMs: c.whatsapp.timeoutMs,
    });
    const source = ctx.addSource(
      scheduleSource({
        job: ctx.name,
        cron: c.cron,
        timeZone: c.timeZone,
        store: postgresFiringStore(db, { schema: c.schema }),
        mode: c.mode,
        toleranceMs: c.toleranceMs,
        overlap: "skip",
        catchUp: { policy: "latest" },
      }),
    );
    const deps = {
      ...stores,
      log: postgresActionLog(db, { schema: c.schema }),
      email: smtp,
      whatsapp,
      deadLetters: postgresDeadLetters(db, { schema: c.schema }),
    };
    const settings = {
      ...DEFAULT_SETTINGS,
      job: ctx.name,
      campaign: c.campaign,
      discountPercent: c.discountPercent,
      validDays: c.validDays,
      language: c.language,
      emailConcurrency: c.smtp.concurrency,
      whatsappConcurrency: c.whatsapp.concurrency,
      emailRatePerSec: c.smtp.ratePerSec,
      whatsappRatePerSec: c.whatsapp.ratePerSec,
      retry: { ...DEFAULT_SETTINGS.retry, maxAttempts: c.maxAttempts },
    };
    ctx.ready();
    await lastValueFrom(
      source.records().pipe(
        // A firing is recorded done when its run resolves; one that throws is recorded
        // failed and runs again on the next start.
        ackAfter(
          async (firing) => {
            ctx.logger.info("firing", {
              id: firing.value.id,
              day: firing.value.localDate,
              attempt: firing.value.attempt,
            });
            const s = await runBirthdayPromo(firing.value, deps, settings);
            ctx.logger.info("birthday promo done", {
              id: s.firingId,
              eligible: s.eligible,
              promo: s.promo.code,
              promoCreated: s.promo.created,
              emailSent: s.email.sent,
              emailDeadLettered: s.email["dead-lettered"],
              whatsappSent: s.whatsapp.sent,
              whatsappDeadLettered: s.whatsapp["dead-lettered"],
              badRows: s.badRows.length,
            });
          },
          {
            onError: (e, firing) =>
              ctx.logger.error(
                "birthday promo failed; the firing runs again on the next start",
                { id: firing.value.id, code: e.code, error: e.message },
              ),
          },
        ),
      ),
      { defaultValue: undefined },
    );
    if (
      c.mode === "run-once" &&
      source.stats.emitted === 0 &&
      source.stats.duplicates === 0
    )
      ctx.logger.warn("no firing within the tolerance: nothing to run", {
        cron: c.cron,
        timeZone: c.timeZone,
        toleranceMs: c.toleranceMs,
      });
    if (source.stats.failed > 0)
      throw new SluiceError(
        "PROCESS",
        `birthday-promo: ${source.stats.failed} firing(s) failed (see the log)`,
      );
  },
});

// A sender process for the SIGKILL test (stack-kill.integration.test.ts): delivers the due
// briefs of a PostgreSQL schema to an SMTP server, slowly (2 per second), until killed.
import { createPostgresPool } from "../../../connectors/postgres/index.js";
import { smtpSender } from "../../../connectors/smtp/index.js";
import { acceleratedScheduler } from "../clock.js";
import { deliverBriefs } from "../deliver.js";
import { postgresStores } from "../wiring.js";

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined || v === "")
    throw new Error(`sender-child: ${name} must be set`);
  return v;
};

const db = createPostgresPool({ connectionString: env("DATABASE_URL") });
const stores = await postgresStores(db, env("MB_SCHEMA"), "meeting-brief");
const smtp = smtpSender({
  host: "127.0.0.1",
  port: Number(env("MB_SMTP_PORT")),
  from: "briefs@sales.example",
});
const run = deliverBriefs({
  job: "meeting-brief-sender",
  queue: stores.queue,
  log: stores.log,
  sender: smtp,
  deadLetters: stores.deadLetters,
  concurrency: 1,
  ratePerSec: 2,
  leaseMs: 600_000,
  stopWhenEmpty: true,
  scheduler: acceleratedScheduler(Number(env("MB_START_MS")), 1),
});
console.log("sender-child: started");
await run.done;
await smtp.close();
await db.end();

import { afterAll, beforeAll } from "vitest";
import {
  createPostgresPool,
  type PostgresPool,
} from "../../connectors/postgres/index.js";
import { requireServices } from "../../stack/index.js";
import { migrateBrief, postgresBriefRepo } from "./postgres-repo.js";
import { describeBriefRepo } from "./testing/repo-conformance.js";

const run = `mb_repo_${Date.now().toString(36)}_${process.pid}`;
let db: PostgresPool;
let n = 0;
const schemas: string[] = [];

beforeAll(async () => {
  const env = await requireServices(["postgres"]);
  db = createPostgresPool({ connectionString: env.databaseUrl });
});
afterAll(async () => {
  for (const s of schemas)
    await db.pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await db.end();
});

// A fresh schema per test, migrated by postgrator like production.
describeBriefRepo("postgres", async () => {
  const schema = `${run}_${++n}`;
  schemas.push(schema);
  await migrateBrief(db, { schema });
  return postgresBriefRepo(db, schema);
});

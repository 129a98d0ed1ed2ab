import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPostgresPool,
  type PostgresPool,
} from "../../connectors/postgres/index.js";
import { requireServices, type Endpoints } from "../../stack/index.js";
import { uniqueName } from "../../stack/smoke/wait.js";
import { migrateAnalytics } from "./stack-wiring.js";

// Issue 16: two recommendation instances starting together died of
// `"movie_rating_stats" is not a table` (SQLSTATE 42809, wrong_object_type): migration 004
// replaces that table with a view (DROP TABLE IF EXISTS, CREATE OR REPLACE VIEW), and a
// runner that read the schema's version before another committed 004 ran its DROP TABLE
// against the view. Every runner must converge on the latest version instead.

const RUNNERS = 6;
const ROUNDS = 3;
const schemas: string[] = [];
let env: Endpoints;
let admin: PostgresPool;

beforeAll(async () => {
  env = await requireServices(["postgres"]);
  admin = createPostgresPool({ connectionString: env.databaseUrl });
});

afterAll(async () => {
  for (const s of schemas)
    await admin?.pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin?.end();
});

describe("the reviews analytics migrations", () => {
  it(`converge when ${RUNNERS} instances migrate one new schema at once (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const schema = uniqueName("an").replace(/[^a-z0-9_]/g, "");
      schemas.push(schema);
      // Separate pools: separate sessions, as separate processes have.
      const pools = Array.from({ length: RUNNERS }, () =>
        createPostgresPool({ connectionString: env.databaseUrl, poolMax: 1 }),
      );
      try {
        const results = await Promise.all(
          pools.map((p) => migrateAnalytics(p, schema)),
        );
        expect(results.map((r) => r.version)).toEqual(
          new Array<number>(RUNNERS).fill(4),
        );
        expect(results.flatMap((r) => r.applied).sort()).toEqual([1, 2, 3, 4]);
        const { rows } = await admin.pool.query(
          `SELECT table_type FROM information_schema.tables
            WHERE table_schema = $1 AND table_name = 'movie_rating_stats'`,
          [schema],
        );
        expect(rows).toEqual([{ table_type: "VIEW" }]);
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    }
  }, 120_000);
});

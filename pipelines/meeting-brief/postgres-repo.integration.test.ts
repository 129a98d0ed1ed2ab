import { migrateBrief, postgresBriefRepo } from "./postgres-repo.js";
import { describeBriefRepo } from "./testing/repo-conformance.js";
import { postgresFixture } from "./testing/postgres-fixture.js";

const pg = postgresFixture("mb_repo");

// A fresh schema per test, migrated by postgrator like production.
describeBriefRepo("postgres", async () => {
  const schema = pg.freshSchema();
  await migrateBrief(pg.db, { schema });
  return postgresBriefRepo(pg.db, schema);
});

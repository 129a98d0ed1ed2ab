import { describe, expect, it } from "vitest";
import * as index from "./index.js";

const modules = {
  "catalog.ts": await import("./catalog.js"),
  "catalog-repo.ts": await import("./catalog-repo.js"),
  "cassandra-review-store.ts": await import("./cassandra-review-store.js"),
  "cql.ts": await import("./cql.js"),
  "fixtures.ts": await import("./fixtures.js"),
  "postgres-catalog.ts": await import("./postgres-catalog.js"),
  "producer.ts": await import("./producer.js"),
  "random.ts": await import("./random.js"),
  "recommend.ts": await import("./recommend.js"),
  "review-store.ts": await import("./review-store.js"),
  "services.ts": await import("./services.js"),
  "types.ts": await import("./types.js"),
  "validate.ts": await import("./validate.js"),
};

describe("pipelines/reviews/index.ts", () => {
  it.each(Object.entries(modules))(
    "re-exports every value export of %s",
    (_, mod) => {
      for (const name of Object.keys(mod))
        expect(Object.keys(index), name).toContain(name);
    },
  );
});

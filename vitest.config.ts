import { defineConfig } from "vitest/config";

// Two projects: `unit` runs anywhere with no services; `integration` talks to the real
// Kafka, Cassandra, PostgreSQL and memcached that `sluice stack up` starts on loopback.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["**/*.test.ts"],
          exclude: ["**/*.integration.test.ts", "node_modules/**", "dist/**"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["**/*.integration.test.ts"],
          exclude: ["node_modules/**", "dist/**"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // The services are shared; files run one at a time so a 2-core machine is not
          // swamped and a slow broker does not turn into flaky timeouts.
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});

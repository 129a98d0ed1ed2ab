/** DESIGN.md "Layout": imports flow down the table, never up, and there are no cycles. */
const layer = (from, notTo, comment) => ({
  name: `${from}-not-to-${notTo.join("-")}`,
  comment,
  severity: "error",
  from: { path: `^${from}/` },
  to: { path: `^(${notTo.join("|")})/` },
});
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    layer(
      "operators",
      [
        "avro",
        "connectors",
        "runtime",
        "pipelines",
        "bench",
        "stack",
        "dashboards",
      ],
      "operators are pure RxJS",
    ),
    {
      ...layer(
        "avro",
        [
          "operators",
          "connectors",
          "runtime",
          "pipelines",
          "bench",
          "stack",
          "dashboards",
        ],
        "avro is the codec only",
      ),
      // The one shared piece: Avro's decode errors are SluiceErrors.
      to: {
        path: "^(operators|connectors|runtime|pipelines|bench|stack|dashboards)/",
        pathNot: "^operators/sluice-error\\.ts$",
      },
    },
    {
      ...layer(
        "connectors",
        ["runtime", "pipelines", "bench", "stack", "dashboards"],
        "connectors sit under the runtime",
      ),
      // Integration tests reach the real services through stack/ (STYLE.md habit 10).
      from: { path: "^connectors/", pathNot: "\\.integration\\.test\\.ts$" },
    },
    {
      ...layer(
        "connectors",
        ["runtime", "pipelines", "bench", "dashboards"],
        "connector integration tests may use stack/, nothing else above connectors",
      ),
      name: "connector-integration-tests-only-to-stack",
      from: { path: "^connectors/.*\\.integration\\.test\\.ts$" },
    },
    {
      ...layer(
        "runtime",
        ["pipelines", "bench"],
        "the runtime runs jobs, it does not know them",
      ),
      // The CLI (the composition root) and its test may name them.
      from: { path: "^runtime/", pathNot: "^runtime/cli(\\.test)?\\.ts$" },
    },
    layer(
      "stack",
      [
        "operators",
        "connectors",
        "avro",
        "runtime",
        "pipelines",
        "bench",
        "dashboards",
      ],
      "stack provisions services and imports nothing of ours",
    ),
    {
      name: "nothing-imports-the-fuzzer",
      comment:
        "fuzz/ is a test harness at the top: it may import everything, nothing imports it",
      severity: "error",
      from: { path: "^(?!fuzz/)" },
      to: { path: "^fuzz/" },
    },
    {
      name: "operators-only-rxjs-and-lru-cache",
      comment: "DESIGN.md: operators may import rxjs and lru-cache only",
      severity: "error",
      from: { path: "^operators/", pathNot: "\\.test\\.ts$" },
      to: {
        dependencyTypes: ["npm"],
        pathNot: "node_modules/(rxjs|lru-cache)/",
      },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^dist/|node_modules)" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
      extensions: [".ts", ".js", ".mjs"],
    },
  },
};

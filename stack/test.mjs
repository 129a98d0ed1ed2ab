#!/usr/bin/env node
// The whole test suite, as `npm test` and CI run it: type check, lint and format check,
// unit tests, then the real services (`sluice stack up`, which reuses any already running,
// and `sluice dashboards up` for Superset) and the integration tests against them. With
// CI=true a missing service fails the run.
// Ends with one line "tests: N passed, N failed" that CI reads.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const reports = join(root, ".sluice", "test-reports");
const args = process.argv.slice(2);
const only = args.find((a) => a === "unit" || a === "integration");
const started = Date.now();
const totals = { passed: 0, failed: 0 };
// Failed tests, repeated at the very end: CI keeps only the tail of the output.
const failures = [];
const firstLine = (text) =>
  String(text ?? "")
    .split("\n")
    .find((l) => l.trim() !== "")
    ?.trim()
    .slice(0, 300) ?? "(no message)";

function section(title) {
  console.log(
    `\n=== ${title} (${Math.round((Date.now() - started) / 1000)} s) ===`,
  );
}

function run(title, cmd, cmdArgs) {
  section(title);
  const r = spawnSync(cmd, cmdArgs, {
    cwd: root,
    stdio: "inherit",
    env: process.env,
  });
  // Steps that are not vitest runs (type check, lint, services) name themselves at the end.
  if (r.status !== 0 && !title.endsWith(" tests"))
    failures.push(
      `${title}: failed (exit ${r.status ?? r.signal}); its output is above`,
    );
  return r.status === 0;
}

function vitest(project) {
  const out = join(reports, `${project}.json`);
  rmSync(out, { force: true });
  const ok = run(`${project} tests`, bin("vitest"), [
    "run",
    "--project",
    project,
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${out}`,
  ]);
  if (existsSync(out)) {
    const r = JSON.parse(readFileSync(out, "utf8"));
    totals.passed += r.numPassedTests ?? 0;
    totals.failed += (r.numFailedTests ?? 0) + (r.numFailedTestSuites ?? 0);
    for (const file of r.testResults ?? []) {
      const rel = file.name?.startsWith(root)
        ? file.name.slice(root.length + 1)
        : file.name;
      if (
        file.status === "failed" &&
        !(file.assertionResults ?? []).some((a) => a.status === "failed")
      )
        failures.push(`${project}: ${rel}: ${firstLine(file.message)}`);
      for (const a of file.assertionResults ?? [])
        if (a.status === "failed")
          failures.push(
            `${project}: ${rel} > ${a.fullName ?? a.title}: ${firstLine((a.failureMessages ?? [])[0])}`,
          );
    }
    if ((r.numTotalTests ?? 0) === 0) {
      console.error(`${project}: no tests ran`);
      return false;
    }
  } else if (!ok) totals.failed += 1;
  return ok;
}

function finish(ok) {
  if (failures.length > 0) {
    console.log(`\nfailed (${failures.length}):`);
    for (const f of failures) console.log(`  ${f}`);
  }
  console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed`);
  console.log(
    `${ok ? "OK" : "FAILED"} in ${Math.round((Date.now() - started) / 1000)} s`,
  );
  process.exit(ok ? 0 : 1);
}

mkdirSync(reports, { recursive: true });
let ok = true;
if (!only) {
  ok = run("type check", bin("tsc"), ["-p", "tsconfig.json", "--noEmit"]) && ok;
  ok =
    run("lint, format, dependency rules", "npm", ["run", "--silent", "lint"]) &&
    ok;
}
if (only !== "integration") ok = vitest("unit") && ok;
if (only !== "unit") {
  // In CI, stop afterwards what this run started, so no process of ours outlives it.
  const sluice = [join(root, "bin", "sluice.mjs"), "stack"];
  const alreadyUp =
    spawnSync(process.execPath, [...sluice, "status"], {
      cwd: root,
      stdio: "ignore",
    }).status === 0;
  const up = run("stack up", process.execPath, [...sluice, "up"]);
  if (!up) {
    totals.failed += 1;
    console.error(
      "The stack did not come up: the integration tests need it. See the service log named above.",
    );
    finish(false);
  }
  // Superset for the dashboards' browser test (installed into ~/.cache/sluice the first
  // time, ~2-5 min; then seconds). The test needs it, so a failure here fails the run.
  const dashboards = [join(root, "bin", "sluice.mjs"), "dashboards"];
  const supersetWasUp =
    spawnSync(process.execPath, [...dashboards, "status"], {
      cwd: root,
      stdio: "ignore",
    }).status === 0;
  if (
    !run("dashboards up (Superset)", process.execPath, [...dashboards, "up"])
  ) {
    totals.failed += 1;
    console.error(
      "Superset did not come up: the dashboards' browser test needs it. See the step and log named above.",
    );
    ok = false;
  }
  // fastavro (pinned) in <cache>/fastavro/venv: the independent Avro implementation the
  // interop test checks the codec against (avro/interop.integration.test.ts). Without it the
  // interop test fails; it is never skipped.
  if (
    !run("avro interop tool (fastavro)", process.execPath, [
      join(root, "stack", "fastavro.mjs"),
    ])
  )
    ok = false;
  ok = vitest("integration") && ok;
  if (process.env.CI === "true" && !supersetWasUp)
    run("dashboards down", process.execPath, [...dashboards, "down"]);
  if (process.env.CI === "true" && !alreadyUp)
    run("stack down", process.execPath, [...sluice, "down"]);
}
finish(ok);

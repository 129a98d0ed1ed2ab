#!/usr/bin/env node
// The repo's install path. `npm run demo` and `npm test` run this first, so a fresh clone
// needs nothing remembered: it installs the Debian libraries the native Kafka client
// (@confluentinc/kafka-javascript, librdkafka) builds against, runs `npm install` with
// CKJS_LINKING=dynamic when package-lock.json changed, checks the native client loads,
// and compiles the TypeScript. Plain Node (no dependencies): it runs before node_modules exists.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const NATIVE_BUILD_PACKAGES = [
  "g++",
  "make",
  "python3",
  "libssl-dev",
  "zlib1g-dev",
  "libzstd-dev",
  "libsasl2-dev",
  "liblz4-dev",
  "libcurl4-openssl-dev",
];
const quiet = process.argv.includes("--quiet");
const step = (msg) => {
  if (!quiet) console.log(`setup: ${msg}`);
};

function fail(msg) {
  console.error(`setup: ${msg}`);
  process.exit(1);
}

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, ...env },
  });
  if (r.status !== 0)
    fail(`\`${cmd} ${args.join(" ")}\` exited with ${r.status ?? r.signal}`);
}

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19))
  fail(`Node ${process.versions.node} is too old: Sluice needs Node >= 20.19`);

function missingDebianPackages(names) {
  if (!existsSync("/usr/bin/dpkg-query")) return [];
  return names.filter((name) => {
    const r = spawnSync("dpkg-query", ["-W", "-f=${Status}", name], {
      encoding: "utf8",
    });
    return r.status !== 0 || !r.stdout.includes("install ok installed");
  });
}

function ensureDebianPackages(names, why) {
  const missing = missingDebianPackages(names);
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot)
    fail(
      `${why} needs Debian packages ${missing.join(" ")}; run: sudo apt-get install -y ${missing.join(" ")}`,
    );
  step(`installing ${missing.join(" ")} (${why})`);
  run("apt-get", ["update", "-qq"]);
  run(
    "apt-get",
    ["install", "-y", "-qq", "--no-install-recommends", ...missing],
    { DEBIAN_FRONTEND: "noninteractive" },
  );
}

/** What decides the install: the lock and package.json's dependency fields (not its scripts). */
function lockHash() {
  const h = createHash("sha256");
  h.update(readFileSync(join(root, "package-lock.json")));
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const fields = [
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
    "overrides",
    "allowScripts",
  ];
  h.update(JSON.stringify(fields.map((f) => pkg[f] ?? null)));
  return h.digest("hex");
}

function nativeClientLoads() {
  const r = spawnSync(
    process.execPath,
    ["-e", "require('@confluentinc/kafka-javascript')"],
    { cwd: root, stdio: "ignore" },
  );
  return r.status === 0;
}

ensureDebianPackages(NATIVE_BUILD_PACKAGES, "the native Kafka client build");
// Debian's chromium, which playwright-core drives in the dashboards' browser test
// (dashboards/embedded.integration.test.ts); playwright's own browser download is not used.
ensureDebianPackages(["chromium"], "the dashboards' browser test");

const stamp = join(root, "node_modules", ".sluice-install-hash");
const want = lockHash();
if (!existsSync(stamp) || readFileSync(stamp, "utf8") !== want) {
  // `npm install`, not `npm ci`: the registry we reach serves only some of rollup's and
  // esbuild's per-platform optional packages, so the lock cannot list them all and
  // `npm ci` rejects it as out of sync. `npm install` still installs the locked versions.
  step(
    "installing npm dependencies (builds librdkafka from source on first install, ~2 min)",
  );
  run("npm", ["install", "--no-audit", "--no-fund"], {
    CKJS_LINKING: "dynamic",
  });
  // Stamp what the install left: npm may add the registry's per-platform optional
  // packages to the lock, and a stamp of the lock before it would reinstall every run.
  writeFileSync(stamp, lockHash());
}
if (!nativeClientLoads()) {
  step(
    "rebuilding @confluentinc/kafka-javascript from source (CKJS_LINKING=dynamic)",
  );
  run("npm", ["rebuild", "@confluentinc/kafka-javascript"], {
    CKJS_LINKING: "dynamic",
  });
  if (!nativeClientLoads())
    fail(
      "@confluentinc/kafka-javascript still does not load after a rebuild; see the build log above",
    );
}

step("compiling TypeScript");
try {
  execFileSync(
    process.execPath,
    [
      join(root, "node_modules", "typescript", "bin", "tsc"),
      "-p",
      "tsconfig.build.json",
    ],
    { cwd: root, stdio: "inherit" },
  );
} catch {
  fail("TypeScript compilation failed (errors above)");
}
run(process.execPath, [join(root, "stack", "copy-assets.mjs")]);
step("ready");

#!/usr/bin/env node
// The independent Avro implementation Sluice's codec is checked against (avro/interop.integration.test.ts):
// Python fastavro, pinned, from PyPI, in its own virtual environment under the cache dir
// (`SLUICE_CACHE_DIR`, default ~/.cache/sluice): <cache>/fastavro/venv. Idempotent: a stamp
// with the pinned version makes a second run instant. `npm test` runs it before the
// integration tests and the interop test runs it again, so a fresh clone needs nothing by hand.
// Prints the venv's python on stdout (progress goes to stderr); exits 1 naming what failed.
// Plain Node (no dependencies), like setup.mjs.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export const FASTAVRO_VERSION = "1.13.1";

const cache = resolve(
  process.env.SLUICE_CACHE_DIR || join(homedir(), ".cache", "sluice"),
  "fastavro",
);
const venv = join(cache, "venv");
const python = join(venv, "bin", "python");
const stamp = join(venv, ".sluice-installed");
const want = `fastavro==${FASTAVRO_VERSION}\n`;

function fail(msg) {
  console.error(`fastavro: ${msg}`);
  process.exit(1);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    env: {
      ...process.env,
      PIP_NO_INPUT: "1",
      PIP_DISABLE_PIP_VERSION_CHECK: "1",
      PIP_CACHE_DIR: join(cache, "pip-cache"),
    },
    timeout: 300_000,
  });
  if (r.status !== 0)
    fail(
      `\`${cmd} ${args.join(" ")}\` ${r.error ? `failed: ${r.error.message}` : `exited with ${r.status ?? r.signal}`}\n${(r.stderr || r.stdout || "").trim().split("\n").slice(-15).join("\n")}`,
    );
  return r.stdout;
}

function works() {
  if (!existsSync(python)) return false;
  const r = spawnSync(
    python,
    ["-c", "import fastavro; print(fastavro.__version__)"],
    {
      encoding: "utf8",
    },
  );
  return r.status === 0 && r.stdout.trim() === FASTAVRO_VERSION;
}

const stamped = existsSync(stamp) && readFileSync(stamp, "utf8") === want;
if (!(stamped && works())) {
  const base = ["python3.12", "python3.11", "python3.10", "python3"].find(
    (p) =>
      spawnSync(p, ["-c", "import venv, ensurepip"], { stdio: "ignore" })
        .status === 0,
  );
  if (base === undefined)
    fail(
      "no python3 with venv and ensurepip on PATH; install one (Debian: apt-get install -y python3-venv)",
    );
  console.error(
    `fastavro: creating ${venv} with ${base} and installing fastavro==${FASTAVRO_VERSION}`,
  );
  rmSync(venv, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  run(base, ["-m", "venv", venv]);
  run(python, [
    "-m",
    "pip",
    "install",
    "--progress-bar",
    "off",
    `fastavro==${FASTAVRO_VERSION}`,
  ]);
  if (!works())
    fail(
      `fastavro ${FASTAVRO_VERSION} does not import in ${venv} after the install`,
    );
  writeFileSync(stamp, want);
}
process.stdout.write(`${python}\n`);

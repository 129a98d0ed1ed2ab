#!/usr/bin/env node
// `npm run fuzz -- --seed S --runs N [--path P] [filter...]`: the scenario fuzzer with a
// chosen seed and run count per property (CI runs a fixed seed and a small budget). A
// failing property prints its seed, the path to replay it (`--path`) and the shrunk input.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const env = { ...process.env };
const filters = [];
for (let i = 0; i < args.length; i++) {
  const flag = args[i];
  const value = args[i + 1];
  const take = (name) => {
    if (value === undefined || !/^-?\d+(:\d+)*$/.test(value)) {
      console.error(
        `fuzz: ${flag} needs a number${name === "FUZZ_PATH" ? " path (a:b:c)" : ""}`,
      );
      process.exit(2);
    }
    env[name] = value;
    i += 1;
  };
  if (flag === "--seed") take("FUZZ_SEED");
  else if (flag === "--runs") take("FUZZ_RUNS");
  else if (flag === "--path") take("FUZZ_PATH");
  else if (flag === "--help" || flag === "-h") {
    console.log(
      "usage: npm run fuzz -- [--seed S] [--runs N] [--path P] [file filter...]",
    );
    process.exit(0);
  } else filters.push(flag);
}
console.log(
  `fuzz: seed ${env.FUZZ_SEED ?? "20261208 (CI's)"}, ${env.FUZZ_RUNS ?? "CI's"} runs per property`,
);
const r = spawnSync(
  join(root, "node_modules", ".bin", "vitest"),
  [
    "run",
    "--project",
    "unit",
    "--testTimeout",
    "0",
    ...(filters.length > 0 ? filters : ["fuzz/"]),
  ],
  { cwd: root, stdio: "inherit", env },
);
process.exit(r.status ?? 1);

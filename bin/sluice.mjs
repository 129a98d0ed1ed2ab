#!/usr/bin/env node
// The `sluice` command: runs the compiled CLI in dist/. `npm run setup` builds it.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const cli = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "dist",
  "runtime",
  "cli.js",
);
if (!existsSync(cli)) {
  console.error(
    "sluice: not built yet. Run `npm run setup` in the repository first.",
  );
  process.exit(1);
}
const { main } = await import(pathToFileURL(cli).href);
process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env node
// Copies the non-TypeScript files that compiled modules read at run time (SQL queries and
// migrations, CQL) next to their modules in dist/, keeping the same relative paths.
import { cpSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const ASSET = /\.(sql|cql|hbs)$/; // hbs: email templates (pipelines/meeting-brief/templates)
const SOURCES = ["connectors", "pipelines", "runtime"];

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (ASSET.test(name))
      cpSync(path, join(root, "dist", relative(root, path)));
  }
}
for (const s of SOURCES) walk(join(root, s));

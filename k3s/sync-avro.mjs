#!/usr/bin/env node
// Copies avro/schemas/*.avsc and avro/protocols/*.avdl into k3s/base/bootstrap/generated/, where
// kustomize's configMapGenerator may read them (its load restrictor rejects files outside the
// kustomization root, and we keep the default restrictor rather than asking every user and
// Argo CD for --load-restrictor LoadRestrictionsNone). Run it after changing avro/;
// k3s/manifests.test.ts fails while the copies differ. `--check` only reports.
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const AVRO_COPIES = [
  {
    from: join(root, "avro", "schemas"),
    to: join(root, "k3s", "base", "bootstrap", "generated", "schemas"),
    ext: ".avsc",
  },
  {
    from: join(root, "avro", "protocols"),
    to: join(root, "k3s", "base", "bootstrap", "generated", "protocols"),
    ext: ".avdl",
  },
];

const list = (dir, ext) => {
  try {
    return readdirSync(dir)
      .filter((n) => n.endsWith(ext))
      .sort();
  } catch {
    return [];
  }
};

/** Differences between avro/ and its copies, as sentences (empty when in step). */
export function avroDrift() {
  const out = [];
  for (const c of AVRO_COPIES) {
    const src = list(c.from, c.ext);
    const dst = list(c.to, c.ext);
    for (const n of src)
      if (!dst.includes(n)) out.push(`${n} is missing from ${c.to}`);
      else if (
        !readFileSync(join(c.from, n)).equals(readFileSync(join(c.to, n)))
      )
        out.push(`${n} differs from its copy in ${c.to}`);
    for (const n of dst)
      if (!src.includes(n))
        out.push(`${n} in ${c.to} has no source in ${c.from}`);
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--check")) {
    const drift = avroDrift();
    for (const d of drift) console.error(d);
    process.exit(drift.length === 0 ? 0 : 1);
  }
  for (const c of AVRO_COPIES) {
    rmSync(c.to, { recursive: true, force: true });
    mkdirSync(c.to, { recursive: true });
    for (const n of list(c.from, c.ext))
      copyFileSync(join(c.from, n), join(c.to, n));
  }
  console.log("k3s: avro copies refreshed");
}

#!/usr/bin/env node
// Offline validation of the cluster manifests (CI runs it through k3s/manifests.integration.test.ts):
//   1. tools, installed once into $SLUICE_CACHE_DIR/k8s-tools (default ~/.cache/sluice): kustomize
//      v5.8.2 and kubeconform v0.7.0 from the Go module proxy (`go install`, GOTOOLCHAIN=local),
//      and the Kubernetes JSON schemas of PyPI kubernetes-validate 1.37.0 in a venv, rewritten
//      as standalone schemas (its files point at a shared _definitions.json by URL);
//   2. `kustomize build` of every k3s/overlays/* into `kubeconform -strict` (Argo CD kinds skipped);
//   3. the Argo CD resources (`kustomize build argocd`) checked with @kubernetes-models/argo-cd.
// `node k3s/validate.mjs [file.yaml ...]` validates only the given files (both checks).
// Exit code 0 valid, 1 invalid, 2 a tool could not be installed.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const KUSTOMIZE = "sigs.k8s.io/kustomize/kustomize/v5@v5.8.2";
const KUBECONFORM = "github.com/yannh/kubeconform/cmd/kubeconform@v0.7.0";
const KUBERNETES_VALIDATE = "kubernetes-validate==1.37.0";
export const KUBERNETES_VERSION = "1.33.0";
const ARGO_KINDS = ["Application", "ApplicationSet", "AppProject"];

const cache = join(
  process.env.SLUICE_CACHE_DIR || join(homedir(), ".cache", "sluice"),
  "k8s-tools",
);
const bin = join(cache, "bin");
const schemaDir = join(cache, "schemas");
const log = (msg) => process.stderr.write(`validate: ${msg}\n`);

class ToolError extends Error {}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    ...options,
  });
  if (r.error) throw new ToolError(`${cmd}: ${r.error.message}`);
  return r;
}

function must(cmd, args, options = {}) {
  const r = run(cmd, args, options);
  if (r.status !== 0)
    throw new ToolError(
      `\`${cmd} ${args.join(" ")}\` failed:\n${r.stderr}${r.stdout}`,
    );
  return r.stdout;
}

/** Installs what is missing; a stamp per tool records the version it holds. */
export function installTools() {
  mkdirSync(bin, { recursive: true });
  const goEnv = {
    ...process.env,
    GOBIN: bin,
    GOTOOLCHAIN: "local",
    GOFLAGS: "-mod=mod",
  };
  for (const [name, pkg] of [
    ["kustomize", KUSTOMIZE],
    ["kubeconform", KUBECONFORM],
  ]) {
    const stamp = join(cache, `${name}.version`);
    if (
      existsSync(join(bin, name)) &&
      existsSync(stamp) &&
      readFileSync(stamp, "utf8") === pkg
    )
      continue;
    log(`go install ${pkg} (once, into ${bin})`);
    must("go", ["install", pkg], { env: goEnv });
    writeFileSync(stamp, pkg);
  }
  const target = join(schemaDir, `v${KUBERNETES_VERSION}-standalone-strict`);
  const stamp = join(schemaDir, "source.version");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === KUBERNETES_VALIDATE)
    return;
  const venv = join(cache, "venv");
  const py = join(venv, "bin", "python");
  if (!existsSync(py)) {
    log(`python3 -m venv ${venv}`);
    must("python3", ["-m", "venv", venv]);
  }
  log(`pip install ${KUBERNETES_VALIDATE} (once, for its Kubernetes schemas)`);
  must(py, [
    "-m",
    "pip",
    "install",
    "-q",
    "--disable-pip-version-check",
    KUBERNETES_VALIDATE,
  ]);
  const pkg = must(py, [
    "-c",
    "import kubernetes_validate,pathlib;print(pathlib.Path(kubernetes_validate.__file__).parent)",
  ]).trim();
  const src = join(
    pkg,
    "kubernetes-json-schema",
    `v${KUBERNETES_VERSION}-local-strict`,
  );
  if (!existsSync(src))
    throw new ToolError(`${KUBERNETES_VALIDATE} has no ${src}`);
  rmSync(schemaDir, { recursive: true, force: true });
  standalone(src, target);
  writeFileSync(stamp, KUBERNETES_VALIDATE);
}

/**
 * Rewrites each kind's schema so that it carries the definitions it uses under `$defs` (the
 * package's files reference /api/_definitions.json by URL, which kubeconform cannot fetch here).
 */
function standalone(src, out) {
  mkdirSync(out, { recursive: true });
  const defs = JSON.parse(
    readFileSync(join(src, "_definitions.json"), "utf8"),
  ).$defs;
  const EXT = /^\/api\/_definitions\.json#\/\$defs\/(.+)$/;
  const walk = (n, found) => {
    if (Array.isArray(n)) for (const v of n) walk(v, found);
    else if (n !== null && typeof n === "object") {
      if (typeof n.$ref === "string") {
        const m = EXT.exec(n.$ref);
        if (m) {
          n.$ref = `#/$defs/${m[1]}`;
          found.add(m[1]);
        } else if (n.$ref.startsWith("#/$defs/")) found.add(n.$ref.slice(8));
      }
      for (const v of Object.values(n)) walk(v, found);
    }
  };
  for (const file of readdirSync(src)) {
    if (!file.endsWith(".json") || file === "_definitions.json") continue;
    const schema = JSON.parse(readFileSync(join(src, file), "utf8"));
    const need = new Set();
    walk(schema, need);
    const bundle = {};
    const queue = [...need];
    while (queue.length > 0) {
      const name = queue.pop();
      if (name in bundle || !(name in defs)) continue;
      const d = JSON.parse(JSON.stringify(defs[name]));
      const more = new Set();
      walk(d, more);
      bundle[name] = d;
      for (const m of more) if (!(m in bundle)) queue.push(m);
    }
    schema.$defs = bundle;
    delete schema.$id;
    writeFileSync(join(out, file), JSON.stringify(schema));
  }
}

/** kubeconform -strict over one YAML file; returns problems as lines. */
function kubeconform(file) {
  const r = run(join(bin, "kubeconform"), [
    "-strict",
    "-summary",
    "-output",
    "text",
    "-kubernetes-version",
    KUBERNETES_VERSION,
    "-schema-location",
    schemaDir,
    "-skip",
    ARGO_KINDS.join(","),
    file,
  ]);
  const out = `${r.stdout}${r.stderr}`.trim();
  return r.status === 0 ? [] : [out || `kubeconform exited with ${r.status}`];
}

/** Argo CD kinds checked against the typed models generated from Argo CD's CRDs. */
async function argoProblems(text, where) {
  const models =
    await import("@kubernetes-models/argo-cd/argoproj.io/v1alpha1");
  const problems = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      problems.push(`${where}: ${doc.errors[0].message}`);
      continue;
    }
    const obj = doc.toJS();
    if (
      obj === null ||
      typeof obj !== "object" ||
      !ARGO_KINDS.includes(obj.kind)
    )
      continue;
    if (obj.apiVersion !== "argoproj.io/v1alpha1") {
      problems.push(
        `${where}: ${obj.kind} ${obj.metadata?.name}: apiVersion must be argoproj.io/v1alpha1`,
      );
      continue;
    }
    try {
      new models[obj.kind](obj).validate();
    } catch (error) {
      problems.push(
        `${where}: ${obj.kind} ${obj.metadata?.name}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return problems;
}

/** `kustomize build dir` with the cached kustomize. */
export function build(dir) {
  return must(join(bin, "kustomize"), ["build", dir]);
}

export function overlays() {
  const base = join(root, "k3s", "overlays");
  return readdirSync(base)
    .filter((n) => existsSync(join(base, n, "kustomization.yaml")))
    .sort();
}

/** Validates the repo's manifests (or `files`); resolves to the problems found. */
export async function validate(files = []) {
  installTools();
  const tmp = mkdtempSync(join(tmpdir(), "sluice-k3s-"));
  const problems = [];
  try {
    const targets = [];
    if (files.length > 0)
      for (const f of files) targets.push({ where: f, file: f });
    else {
      for (const o of overlays()) {
        const file = join(tmp, `${o}.yaml`);
        writeFileSync(file, build(join(root, "k3s", "overlays", o)));
        targets.push({ where: `k3s/overlays/${o}`, file });
      }
      targets.push({
        where: "k3s/secrets.example.yaml",
        file: join(root, "k3s", "secrets.example.yaml"),
      });
      const argo = join(tmp, "argocd.yaml");
      writeFileSync(argo, build(join(root, "argocd")));
      targets.push({ where: "argocd", file: argo });
    }
    for (const t of targets) {
      for (const p of kubeconform(t.file)) problems.push(`${t.where}: ${p}`);
      problems.push(
        ...(await argoProblems(readFileSync(t.file, "utf8"), t.where)),
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  try {
    const files = process.argv.slice(2).filter((a) => !a.startsWith("--"));
    const problems = await validate(files);
    for (const p of problems) console.error(p);
    const what =
      files.length > 0
        ? files.map((f) => relative(process.cwd(), f)).join(", ")
        : `overlays ${overlays().join(", ")}, argocd`;
    log(
      `${problems.length === 0 ? "valid" : `${problems.length} problem(s)`}: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    process.exitCode = problems.length === 0 ? 0 : 1;
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    log(error.message);
    process.exitCode = 2;
  }
}

// The config dry run of every workload: render each overlay, take each Sluice container's
// args, env (values, ConfigMap and Secret references, envFrom) and mounted files, and run
// `sluice run <job> --check-config` with exactly that, as the pod would start it. Secrets come
// from k3s/secrets.example.yaml (their placeholders), mounted files are written under a temp
// dir and paths to them rewritten. Catches what offline schema validation cannot: an env that
// the job's own config loader refuses.
import { spawn } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { a, docs, o, podSpec, type Obj } from "./rendered.js";
// @ts-expect-error -- plain ESM script without types (k3s/validate.mjs)
import * as validator from "./validate.mjs";

const { build, installTools } = validator as {
  build(dir: string): string;
  installTools(): void;
};
const root = join(import.meta.dirname, "..");

/** A manifest scalar as the pod sees it (numbers and booleans as written). */
const str = (v: unknown): string =>
  typeof v === "string"
    ? v
    : typeof v === "number" || typeof v === "boolean"
      ? `${v}`
      : (JSON.stringify(v) ?? "");
const nameOf = (d: Obj): string => str(o(d["metadata"])["name"]);

/** A container as its pod would start it: args, env and files, paths under `dir`. */
export interface StartSpec {
  readonly where: string;
  readonly args: readonly string[];
  readonly env: { [k: string]: string };
  readonly problems: readonly string[];
}

/**
 * Every container of the Sluice image that runs a job (`args: [run, <job>, ...]`), with the
 * env it would get and its Secret/ConfigMap volumes written under `dir`.
 */
export function startSpecs(
  rendered: readonly Obj[],
  secrets: readonly Obj[],
  dir: string,
): StartSpec[] {
  const configMaps = new Map<string, Obj>();
  for (const d of rendered)
    if (d["kind"] === "ConfigMap") configMaps.set(nameOf(d), o(d["data"]));
  const secretData = new Map<string, Obj>();
  for (const d of [...rendered, ...secrets])
    if (d["kind"] === "Secret")
      secretData.set(nameOf(d), { ...o(d["data"]), ...o(d["stringData"]) });
  const out: StartSpec[] = [];
  for (const w of rendered) {
    const pod = podSpec(w);
    for (const c of a(pod["containers"]).map(o)) {
      const args = a(c["args"]).map(String);
      if (!/(^|\/)sluice:/.test(str(c["image"])) || args[0] !== "run") continue;
      const where = `${str(w["kind"])} ${nameOf(w)} container ${str(c["name"])}`;
      const problems: string[] = [];
      const base = join(dir, nameOf(w), str(c["name"]));
      // Mounted volumes: written under base, and every mention of the mount path rewritten.
      const rewrites: [string, string][] = [];
      const volumes = new Map(
        a(pod["volumes"]).map((v) => [str(o(v)["name"]), o(v)]),
      );
      for (const m of a(c["volumeMounts"]).map(o)) {
        const v = volumes.get(str(m["name"]));
        const mountPath = str(m["mountPath"]);
        const local = join(base, mountPath);
        mkdirSync(local, { recursive: true });
        rewrites.push([mountPath, local]);
        const secretName = o(v?.["secret"])["secretName"];
        const cmName = o(v?.["configMap"])["name"];
        const data =
          secretName !== undefined
            ? secretData.get(str(secretName))
            : cmName !== undefined
              ? configMaps.get(str(cmName))
              : {};
        if (data === undefined) {
          problems.push(
            `volume ${str(m["name"])} names ${str(secretName ?? cmName)}, which neither the overlay nor k3s/secrets.example.yaml defines`,
          );
          continue;
        }
        for (const [k, value] of Object.entries(data))
          writeFileSync(join(local, k), str(value));
      }
      const local = (s: string): string =>
        rewrites.reduce((acc, [from, to]) => acc.split(from).join(to), s);
      const env: { [k: string]: string } = {};
      for (const from of a(c["envFrom"]).map(o)) {
        const cm = o(from["configMapRef"])["name"];
        const sec = o(from["secretRef"])["name"];
        const data =
          cm !== undefined ? configMaps.get(str(cm)) : secretData.get(str(sec));
        if (data === undefined)
          problems.push(
            `envFrom names ${str(cm ?? sec)}, which is not defined`,
          );
        else for (const [k, v] of Object.entries(data)) env[k] = str(v);
      }
      for (const e of a(c["env"]).map(o)) {
        const name = str(e["name"]);
        if (e["value"] !== undefined) {
          env[name] = local(str(e["value"]));
          continue;
        }
        const from = o(e["valueFrom"]);
        const ref = o(from["configMapKeyRef"] ?? from["secretKeyRef"]);
        if (from["fieldRef"] !== undefined) env[name] = `${nameOf(w)}-0`;
        else {
          const map =
            from["configMapKeyRef"] !== undefined ? configMaps : secretData;
          const value = map.get(str(ref["name"]))?.[str(ref["key"])];
          if (value === undefined && ref["optional"] !== true)
            problems.push(
              `env ${name} reads ${str(ref["name"])}/${str(ref["key"])}, which is not defined`,
            );
          else if (value !== undefined) env[name] = str(value);
        }
      }
      out.push({ where, args: args.map(local), env, problems });
    }
  }
  return out;
}

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function sluice(
  args: readonly string[],
  env: { [k: string]: string },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(root, "bin", "sluice.mjs"), ...args],
      {
        cwd: root,
        // Only what the pod gets, plus what node itself needs.
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`sluice ${args.join(" ")} gave no answer within 60 s`));
    }, 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function checkAll(specs: readonly StartSpec[]): Promise<string[]> {
  const failures: string[] = [];
  const queue = [...specs];
  const worker = async (): Promise<void> => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
      failures.push(...s.problems.map((p) => `${s.where}: ${p}`));
      const r = await sluice([...s.args, "--check-config"], s.env);
      if (r.code !== 0)
        failures.push(
          `${s.where}: sluice ${s.args.join(" ")} --check-config exited ${str(r.code)}: ${r.stderr.trim()}`,
        );
    }
  };
  await Promise.all([worker(), worker()]);
  return failures.sort();
}

const dir = mkdtempSync(join(tmpdir(), "sluice-dry-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const secrets = docs(
  readFileSync(join(root, "k3s", "secrets.example.yaml"), "utf8"),
);

describe("config dry run of every workload", () => {
  beforeAll(() => {
    installTools();
  }, 600_000);

  for (const overlay of ["dev", "prod"])
    it(`overlay ${overlay}: every job container's env and files pass its own config loader`, async () => {
      const rendered = docs(build(join(root, "k3s", "overlays", overlay)));
      const specs = startSpecs(rendered, secrets, join(dir, overlay));
      expect(specs.length).toBeGreaterThanOrEqual(15);
      expect(await checkAll(specs)).toEqual([]);
    }, 300_000);

  it("a deliberately broken env fails the dry run, naming the field and the variable", async () => {
    const rendered = docs(build(join(root, "k3s", "overlays", "dev")));
    const specs = startSpecs(rendered, secrets, join(dir, "broken"));
    const enrichment = specs.find((s) => s.args[1] === "reviews-enrichment");
    expect(enrichment).toBeDefined();
    const { DATABASE_URL: _dropped, ...env } = enrichment!.env;
    const broken = [
      { ...enrichment!, env: { ...env, SLUICE_CHECKPOINT_STORE: "postgres" } },
      {
        ...enrichment!,
        env: {
          ...enrichment!.env,
          SLUICE_JOB__MOVIE_SERVICE__PORT: "not-a-port",
        },
      },
    ];
    const failures = (await checkAll(broken)).join("\n");
    expect(failures).toMatch(
      /postgres\.url must be set when checkpoint\.store is postgres/,
    );
    expect(failures).toMatch(
      /env SLUICE_JOB__MOVIE_SERVICE__PORT: job\.movieService\.port/,
    );
  }, 120_000);
});

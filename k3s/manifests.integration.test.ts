import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runtimeConfigSchema } from "../runtime/config.js";
import { discoverPipelines } from "../runtime/pipelines.js";
import { a, docs, o, podSpec, type Obj } from "./rendered.js";
// @ts-expect-error -- plain ESM script without types (k3s/validate.mjs)
import * as validator from "./validate.mjs";
// @ts-expect-error -- plain ESM script without types (k3s/sync-avro.mjs)
import * as avro from "./sync-avro.mjs";

interface Validator {
  validate(files?: readonly string[]): Promise<string[]>;
  build(dir: string): string;
  overlays(): string[];
}
const { validate, build, overlays } = validator as Validator;
const { avroDrift } = avro as { avroDrift(): string[] };

const root = join(import.meta.dirname, "..");

/** Registered jobs that are examples on the in-memory log, never deployed. */
const NOT_DEPLOYED = new Set(["demo-count", "outreach-simulators"]);

/** Every job name registered by a pipelines/<name>/entry.ts (what `sluice run` accepts). */
async function registeredJobs(): Promise<string[]> {
  return [...(await discoverPipelines()).jobs.keys()];
}

interface JobContainer {
  readonly job: string;
  readonly workload: Obj;
  readonly container: Obj;
}

/** Containers that run the Sluice image, with the job their arguments name. */
function jobContainers(rendered: Obj[]): JobContainer[] {
  const out: JobContainer[] = [];
  for (const w of rendered)
    for (const c of a(podSpec(w)["containers"]).map(o)) {
      const args = a(c["args"]);
      if (/(^|\/)sluice(-cdc)?:/.test(String(c["image"])))
        out.push({ job: String(args[1]), workload: w, container: c });
    }
  return out;
}

describe("k3s manifests", () => {
  let problems: string[] = [];
  beforeAll(async () => {
    // Installs kustomize, kubeconform and the schemas into $SLUICE_CACHE_DIR on first use.
    problems = await validate();
  }, 600_000);

  it("every overlay and the Argo CD resources pass offline validation", () => {
    expect(problems).toEqual([]);
  });

  it("a deliberately broken manifest fails validation, each broken document named", async () => {
    const found = await validate([
      join(root, "k3s", "testdata", "broken.yaml"),
    ]);
    const text = found.join("\n");
    expect(text).toMatch(
      /Deployment broken-field is invalid.*'replica' not allowed/,
    );
    expect(text).toMatch(
      /Service broken-type is invalid.*got string, want integer/,
    );
    expect(text).toMatch(
      /Application broken-app: .*required property destination/,
    );
  });

  it("the Avro ConfigMaps' sources are copies of avro/ (run node k3s/sync-avro.mjs)", () => {
    expect(avroDrift()).toEqual([]);
  });

  for (const env of ["dev", "prod"]) {
    describe(`overlay ${env}`, () => {
      let rendered: Obj[] = [];
      beforeAll(() => {
        expect(overlays()).toContain(env);
        rendered = docs(build(join(root, "k3s", "overlays", env)));
      });

      it("runs every job a pipeline registers", async () => {
        const registered = await registeredJobs();
        expect(registered, "pipelines/*/entry.ts could not be read").toContain(
          "demo-count",
        );
        const jobs = registered.filter((j) => !NOT_DEPLOYED.has(j));
        const deployed = jobContainers(rendered).map((c) => c.job);
        for (const j of jobs)
          expect(deployed, `no workload runs ${j}`).toContain(j);
      });

      it("starts each job the way the image and the runtime expect", () => {
        const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
        expect(dockerfile).toMatch(/ENTRYPOINT \["node", "bin\/sluice\.mjs"\]/);
        const defaults = runtimeConfigSchema.parse({});
        const http = readFileSync(join(root, "runtime", "http.ts"), "utf8");
        for (const { job, workload, container } of jobContainers(rendered)) {
          const where = `${String(workload["kind"])} ${String(o(workload["metadata"])["name"])}/${job}`;
          expect(container["command"], where).toBeUndefined();
          expect(a(container["args"]).slice(0, 1), where).toEqual(["run"]);
          const port = a(container["ports"])
            .map(o)
            .find((p) => p["name"] === "http");
          expect(port?.["containerPort"], where).toBe(defaults.http.port);
          for (const [probe, path] of [
            ["readinessProbe", "/readyz"],
            ["livenessProbe", "/healthz"],
          ] as const) {
            expect(http, `runtime/http.ts serves ${path}`).toContain(
              `"${path}"`,
            );
            const get = o(o(container[probe])["httpGet"]);
            expect([get["path"], get["port"]], `${where} ${probe}`).toEqual([
              path,
              "http",
            ]);
          }
          const grace = Number(
            podSpec(workload)["terminationGracePeriodSeconds"],
          );
          const env = o(
            rendered.find(
              (d) =>
                d["kind"] === "ConfigMap" &&
                o(d["metadata"])["name"] === "sluice-runtime",
            )?.["data"],
          );
          const shutdownMs = Number(
            env["SLUICE_SHUTDOWN_TIMEOUT_MS"] ?? defaults.shutdownTimeoutMs,
          );
          expect(
            grace * 1000,
            `${where} terminationGracePeriodSeconds`,
          ).toBeGreaterThan(shutdownMs + 5_000);
          expect(String(env["SLUICE_HTTP_PORT"])).toBe(
            String(defaults.http.port),
          );
          const limits = o(o(container["resources"])["limits"]);
          const requests = o(o(container["resources"])["requests"]);
          expect(limits["memory"], where).toBeDefined();
          expect(requests["cpu"], where).toBeDefined();
        }
      });

      it("scrapes every job's /metrics and gives each Deployment a PodDisruptionBudget", () => {
        for (const { job, workload } of jobContainers(rendered)) {
          const tpl =
            workload["kind"] === "CronJob"
              ? o(o(o(o(workload["spec"])["jobTemplate"])["spec"])["template"])
              : o(o(workload["spec"])["template"]);
          const ann = o(o(tpl["metadata"])["annotations"]);
          expect(
            [
              ann["prometheus.io/scrape"],
              ann["prometheus.io/path"],
              ann["prometheus.io/port"],
            ],
            job,
          ).toEqual(["true", "/metrics", "9464"]);
          if (workload["kind"] === "Deployment")
            expect(
              rendered.some(
                (d) =>
                  d["kind"] === "PodDisruptionBudget" &&
                  o(d["metadata"])["name"] === o(workload["metadata"])["name"],
              ),
              job,
            ).toBe(true);
        }
      });

      it("never runs more consumers than the input topic has partitions", () => {
        const topics = new Map<string, number>();
        const cm = rendered.find(
          (d) =>
            d["kind"] === "ConfigMap" &&
            String(o(d["metadata"])["name"]).startsWith("sluice-topics"),
        );
        for (const line of String(o(cm?.["data"])["topics.txt"]).split("\n"))
          if (line.trim() !== "" && !line.startsWith("#")) {
            const [name, partitions] = line.trim().split(/\s+/);
            topics.set(name!, Number(partitions));
          }
        for (const d of rendered.filter((d) => d["kind"] === "Deployment")) {
          const topic = o(o(d["metadata"])["annotations"])[
            "sluice.dev/input-topic"
          ];
          if (typeof topic !== "string") continue;
          expect(topics.has(topic), topic).toBe(true);
          expect(Number(o(d["spec"])["replicas"])).toBeLessThanOrEqual(
            topics.get(topic)!,
          );
        }
      });

      it("has an Argo CD Application for every part that runs a job", () => {
        const appset = docs(build(join(root, "argocd"))).find(
          (d) => d["kind"] === "ApplicationSet",
        );
        const gens = a(
          o(a(o(appset?.["spec"])["generators"]).map(o)[0]?.["matrix"])[
            "generators"
          ],
        ).map(o);
        const envs = a(o(gens[0]?.["list"])["elements"]).map(
          (e) => o(e)["env"],
        );
        const dirs = a(o(gens[1]?.["list"])["elements"]).map((e) =>
          String(o(e)["dir"]),
        );
        expect(envs).toContain(env);
        const kustomization = readFileSync(
          join(root, "k3s", "overlays", env, "kustomization.yaml"),
          "utf8",
        );
        const parts = [...kustomization.matchAll(/^\s+- (\S+)$/gm)].map(
          (m) => m[1],
        );
        expect([...dirs].sort()).toEqual([...parts].sort());
        for (const { job } of jobContainers(rendered)) {
          const dir = dirs.find((d) => d === `jobs/${job}`) ?? "infra";
          const part = docs(build(join(root, "k3s", "overlays", env, dir)));
          expect(
            jobContainers(part).map((c) => c.job),
            `${job} in k3s/overlays/${env}/${dir}`,
          ).toContain(job);
        }
      });
    });
  }
});

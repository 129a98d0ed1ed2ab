import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// No Docker engine (or hadolint) runs here: these checks keep the Dockerfile in step with
// stack/setup.mjs, the install path every developer and CI run.
const root = join(import.meta.dirname, "..");
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const setup = readFileSync(join(root, "stack", "setup.mjs"), "utf8");
/** Instructions with their continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));
const stages = instructions
  .join("\n")
  .split(/^(?=FROM )/m)
  .filter((s) => s.startsWith("FROM "));

function setupPackages(): string[] {
  const m = /const NATIVE_BUILD_PACKAGES = \[([\s\S]*?)\]/.exec(setup);
  if (m === null)
    throw new Error("stack/setup.mjs has no NATIVE_BUILD_PACKAGES");
  return [...m[1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!);
}

describe("Dockerfile", () => {
  it("is multi-stage on the Node line package.json asks for", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const engines = (
      JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
        engines: { node: string };
      }
    ).engines.node;
    const major = /(\d+)/.exec(engines)![1];
    const names: string[] = [];
    for (const s of stages) {
      const from = /^FROM (\S+)(?: AS (\S+))?/.exec(s)!;
      // Each stage starts from the Node image or from an earlier stage.
      if (!names.includes(from[1]!))
        expect(s).toMatch(new RegExp(`^FROM node:${major}-bookworm-slim`));
      if (from[2] !== undefined) names.push(from[2]);
    }
  });

  it("installs the Debian packages stack/setup.mjs installs for the native Kafka client", () => {
    const apt = stages[0]!.match(/apt-get install[^\n]*/)?.[0] ?? "";
    for (const p of setupPackages())
      expect(apt.split(/\s+/), `missing ${p}`).toContain(p);
  });

  it("builds like stack/setup.mjs: CKJS_LINKING=dynamic, npm install, tsc, assets", () => {
    expect(setup).toContain('CKJS_LINKING: "dynamic"');
    expect(stages[0]).toMatch(/^ENV CKJS_LINKING=dynamic$/m);
    expect(setup).toMatch(/run\("npm", \["install"/);
    expect(stages[0]).toMatch(/RUN npm install\b/);
    expect(stages[0]).not.toMatch(/npm ci\b/);
    expect(setup).toContain('"tsconfig.build.json"');
    expect(stages[0]).toMatch(/tsc -p tsconfig\.build\.json/);
    expect(stages[0]).toMatch(/node stack\/copy-assets\.mjs/);
  });

  it("copies every folder tsconfig.build.json compiles", () => {
    const build = JSON.parse(
      readFileSync(join(root, "tsconfig.build.json"), "utf8"),
    ) as { include: string[] };
    for (const glob of build.include) {
      const dir = glob.split("/")[0]!;
      expect(stages[0], dir).toMatch(new RegExp(`^COPY ${dir} `, "m"));
    }
  });

  it("runs as a non-root user, the job chosen by arguments, probes left to Kubernetes", () => {
    const last = stages.at(-1)!;
    const user = [...last.matchAll(/^USER (\S+)$/gm)].at(-1)?.[1] ?? "root";
    expect(user.split(":")[0]).toMatch(/^[1-9]\d*$/);
    expect(last).toMatch(/^ENTRYPOINT \["node", "bin\/sluice\.mjs"\]$/m);
    expect(last).toMatch(/^CMD \["run", "[a-z0-9-]+"\]$/m);
    expect(dockerfile).not.toMatch(/^HEALTHCHECK/m);
    expect(last).toMatch(/^EXPOSE 9464$/m);
  });

  it("builds the cdc target: the runtime plus a JRE and the CDC reader compiled at build time", () => {
    const cdc = stages.find((s) => /^FROM runtime-base AS cdc$/m.test(s));
    expect(cdc, "no `FROM runtime-base AS cdc` stage").toBeDefined();
    expect(cdc).toMatch(/openjdk-17-jre-headless/);
    expect(cdc).toMatch(/COPY --from=cdc-reader \/opt\/sluice /);
    expect(cdc).toMatch(/^CMD \["run", "reviews-cdc"\]$/m);
    const reader = stages.find((s) => /^FROM \S+ AS cdc-reader$/m.test(s));
    expect(reader).toMatch(/buildReader\('\/opt\/java'\)/);
    const cassandra = readFileSync(
      join(root, "k3s", "base", "infra", "cassandra.yaml"),
      "utf8",
    );
    expect(cassandra).toMatch(
      /image: sluice-cdc:0\.1\.0\n\s+args: \["run", "reviews-cdc"\]/,
    );
  });
});

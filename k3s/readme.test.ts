import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const readme = readFileSync(join(root, "README.md"), "utf8");
const section =
  /## Deploy with Argo CD\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? "";

describe('README "Deploy with Argo CD"', () => {
  it("exists", () => {
    expect(section.length).toBeGreaterThan(0);
  });

  it("names only files and folders that exist", () => {
    const paths = [
      ...section.matchAll(/`((?:k3s|argocd)\/[^`\s]*|Dockerfile)`/g),
    ].map((m) => m[1]!.replace(/\/$/, ""));
    expect(paths.length).toBeGreaterThan(5);
    for (const p of paths) expect(existsSync(join(root, p)), p).toBe(true);
  });

  it("names every job the ApplicationSet deploys, and the repo URL it uses", () => {
    const appset = readFileSync(
      join(root, "argocd", "applicationset.yaml"),
      "utf8",
    );
    for (const m of appset.matchAll(/dir: jobs\/(\S+)/g))
      expect(section, m[1]).toContain(`\`${m[1]}\``);
    const repo = /repoURL: (\S+)/.exec(appset)?.[1] ?? "";
    expect(section).toContain(repo);
  });
});

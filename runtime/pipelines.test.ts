import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { discoverPipelines } from "./pipelines.js";

function tree(files: { readonly [path: string]: string }): URL {
  const root = mkdtempSync(join(tmpdir(), "sluice-pipelines-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return pathToFileURL(`${root}/`);
}

describe("discoverPipelines", () => {
  it("finds the jobs and demos of the repo's pipelines", async () => {
    const catalog = await discoverPipelines();
    expect([...catalog.jobs.keys()]).toEqual(
      expect.arrayContaining(["demo-count", "reviews-enrichment"]),
    );
  });

  it("collects every folder's entry and skips folders without one", async () => {
    const root = tree({
      "a/entry.js":
        "export const entry = { jobs: { 'a-job': async () => ({}) }, demos: { a: { description: 'A', run: async () => {} } } };",
      "b/entry.js":
        "export const entry = { jobs: { 'b-job': async () => ({}) } };",
      "c/other.js": "export const x = 1;",
    });
    const catalog = await discoverPipelines(root);
    expect([...catalog.jobs.keys()]).toEqual(["a-job", "b-job"]);
    expect(catalog.demos.get("a")?.description).toBe("A");
  });

  it("names both folders when a job name is registered twice", async () => {
    const root = tree({
      "a/entry.js":
        "export const entry = { jobs: { same: async () => ({}) } };",
      "b/entry.js":
        "export const entry = { jobs: { same: async () => ({}) } };",
    });
    await expect(discoverPipelines(root)).rejects.toThrow(
      'job "same" is registered by both pipelines/a and pipelines/b',
    );
  });

  it("names the folder whose entry module exports no entry", async () => {
    const root = tree({ "x/entry.js": "export const jobs = {};" });
    await expect(discoverPipelines(root)).rejects.toThrow(
      "pipelines/x/entry: exports no `entry`",
    );
  });
});

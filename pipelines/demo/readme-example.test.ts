import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { clicksPerMinute } from "./readme-example.js";

describe("the README example", () => {
  it("is quoted in the README exactly as it is in this folder", () => {
    const readme = readFileSync(
      new URL("../../README.md", import.meta.url),
      "utf8",
    );
    const source = readFileSync(
      new URL("./readme-example.ts", import.meta.url),
      "utf8",
    );
    expect(readme).toContain(source.trim());
  });

  it("counts clicks per user per minute", async () => {
    expect((await clicksPerMinute()).sort()).toEqual([
      "ada 0s: 2",
      "ada 60s: 1",
      "bo 0s: 1",
    ]);
  });
});

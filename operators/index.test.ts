import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as index from "./index.js";

const dir = fileURLToPath(new URL(".", import.meta.url));
const modules = readdirSync(dir).filter(
  (f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && f !== "index.ts",
);

describe("operators/index.ts", () => {
  it.each(modules)("re-exports every runtime export of %s", async (file) => {
    const mod = (await import(`./${file.replace(/\.ts$/, ".js")}`)) as {
      [name: string]: unknown;
    };
    const missing = Object.keys(mod).filter((name) => !(name in index));
    expect(missing).toEqual([]);
  });

  it.each(modules)(
    "documents every exported function and class of %s with a summary and an example",
    (file) => {
      const source = readFileSync(`${dir}/${file}`, "utf8");
      const undocumented: string[] = [];
      const exported =
        /^export (?:abstract )?(?:function|class|const) ([A-Za-z0-9_]+)/gm;
      for (
        let m = exported.exec(source);
        m !== null;
        m = exported.exec(source)
      ) {
        const before = source.slice(0, m.index).trimEnd();
        const doc = before.endsWith("*/")
          ? before.slice(before.lastIndexOf("/**"))
          : "";
        if (!doc.includes("@example")) undocumented.push(m[1]!);
      }
      expect(undocumented).toEqual([]);
    },
  );
});

import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as avro from "./index.js";

const dir = fileURLToPath(new URL(".", import.meta.url));
const sources = readdirSync(dir).filter(
  (f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && f !== "index.ts",
);

describe("avro/index.ts", () => {
  it.each(sources)("re-exports every runtime export of %s", async (file) => {
    const module = (await import(
      `./${file.replace(/\.ts$/, ".js")}`
    )) as Record<string, unknown>;
    for (const name of Object.keys(module))
      expect(avro, `${file} exports ${name}`).toHaveProperty(name);
  });

  it.each(sources)(
    "documents every export of %s with TSDoc and an @example",
    (file) => {
      const text = readFileSync(`${dir}/${file}`, "utf8");
      const exported = [
        ...text.matchAll(
          /^export (?:async )?(?:function|class|const|interface|type) (\w+)/gm,
        ),
      ];
      const seen = new Set<string>();
      for (const match of exported) {
        // Overloads share the first declaration's TSDoc.
        if (seen.has(match[1]!)) continue;
        seen.add(match[1]!);
        const before = text.slice(0, match.index).trimEnd();
        expect(before.endsWith("*/"), `${file}: ${match[1]} has no TSDoc`).toBe(
          true,
        );
        const doc = before.slice(before.lastIndexOf("/**"));
        expect(doc, `${file}: ${match[1]} has no @example`).toContain(
          "@example",
        );
      }
    },
  );
});

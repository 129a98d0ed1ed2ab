import { describe, expect, it } from "vitest";
import { isJobDefinition } from "../../runtime/job.js";
import { entry } from "./entry.js";

describe("pipelines/eshop/entry", () => {
  it.each(Object.entries(entry.jobs ?? {}))(
    "%s loads a job of that name whose config defaults parse",
    async (name, load) => {
      const mod = (await load()) as { default: unknown };
      expect(isJobDefinition(mod.default)).toBe(true);
      const job = mod.default as {
        name: string;
        config: { parse(v: unknown): unknown };
      };
      expect(job.name).toBe(name);
      expect(() => job.config.parse({})).not.toThrow();
    },
  );

  it("names the field of a bad config", async () => {
    const mod = (await entry.jobs!["eshop-ordering"]!()) as {
      default: {
        config: {
          safeParse(v: unknown): {
            success: boolean;
            error?: { issues: { path: unknown[] }[] };
          };
        };
      };
    };
    const r = mod.default.config.safeParse({ graceMode: "cron" });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["graceMode"]);
  });

  it("offers the eshop demo, counting orders", () => {
    expect(entry.demos?.["eshop"]?.sizeUnit).toBe("orders");
  });
});

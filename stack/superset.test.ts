import { describe, expect, it } from "vitest";
import { supersetSettings } from "./superset.js";

describe("supersetSettings", () => {
  it("takes SUPERSET_URL without its trailing slash, else 127.0.0.1:8088", async () => {
    const base = { SUPERSET_ADMIN_PASSWORD: "pw" };
    expect(
      (await supersetSettings({ ...base, SUPERSET_URL: "http://bi:9000/" }))
        .url,
    ).toBe("http://bi:9000");
    const fallback = await supersetSettings(base);
    expect(fallback).toEqual({
      url: "http://127.0.0.1:8088",
      username: "admin",
      password: "pw",
    });
  });
});

import { afterEach, describe, expect, it } from "vitest";
import type { HttpApiError } from "../http.js";
import { seededRandom } from "../../../operators/internal/random.js";
import { EnrichmentClient } from "./client.js";
import {
  simulatedPerson,
  startEnrichmentSimulator,
  type EnrichmentSimulator,
} from "./simulator.js";

let sim: EnrichmentSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});
const client = (s: EnrichmentSimulator, apiKey = s.apiKey) =>
  new EnrichmentClient({
    baseUrl: s.baseUrl,
    apiKey,
    retry: {
      sleep: () => Promise.resolve(),
      random: seededRandom(2),
      maxAttempts: 4,
    },
  });

describe("EnrichmentClient against the simulator", () => {
  it("maps the combined person and company to the stored shape", async () => {
    sim = await startEnrichmentSimulator();
    const p = await client(sim).findByEmail("alex.k@acme.example");
    const raw = simulatedPerson("alex.k@acme.example");
    expect(p).toEqual({
      email: "alex.k@acme.example",
      firstName: raw.person!.name.givenName,
      lastName: raw.person!.name.familyName,
      avatar: raw.person!.avatar,
      title: raw.person!.employment.title,
      linkedinUrl: "https://www.linkedin.com/in/alex-k",
      company: {
        name: "Acme",
        domain: "acme.example",
        linkedinUrl: "https://www.linkedin.com/company/acme",
        employees: raw.company!.metrics.employees,
      },
    });
  });

  it("returns null for an unknown email (404) and throws VALIDATE for an invalid one (422)", async () => {
    sim = await startEnrichmentSimulator();
    expect(await client(sim).findByEmail("someone@unknown.example")).toBeNull();
    const e = (await client(sim)
      .findByEmail("not-an-email")
      .catch((x: unknown) => x)) as HttpApiError;
    expect([e.status, e.code, e.reason]).toEqual([
      422,
      "VALIDATE",
      "email_invalid",
    ]);
  });

  it("a wrong key is a 401 CONFIG error that does not print the key", async () => {
    sim = await startEnrichmentSimulator();
    const e = (await client(sim, "sk_wrong_key")
      .findByEmail("a@acme.example")
      .catch((x: unknown) => x)) as HttpApiError;
    expect([e.status, e.code]).toEqual([401, "CONFIG"]);
    expect(e.message).not.toContain("sk_wrong_key");
    expect(JSON.stringify(client(sim, "sk_wrong_key"))).not.toContain(
      "sk_wrong_key",
    );
  });

  it("retries failures and succeeds when one attempt passes", async () => {
    sim = await startEnrichmentSimulator({ failureRate: 0.5, seed: 3 });
    const results = await Promise.all(
      ["a", "b", "c", "d"].map((x) =>
        client(sim!)
          .findByEmail(`${x}@acme.example`)
          .catch(() => "failed"),
      ),
    );
    expect(sim.stats.failuresInjected).toBeGreaterThan(0);
    expect(
      results.filter((r) => r !== "failed" && r !== null).length,
    ).toBeGreaterThan(0);
  });
});

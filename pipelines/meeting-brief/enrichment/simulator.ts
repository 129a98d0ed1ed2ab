// A local stand-in for the Clearbit-Combined-shaped enrichment API (see api.ts) on 127.0.0.1,
// with configurable latency and failure rate. People are made up from the email, the same
// every time; emails at `unknownDomains` (and local parts starting "nobody") are 404.
import type { ServerResponse } from "node:http";
import { startLocalHttpServer } from "../../../connectors/internal/local-http-server.js";
import { seededRandom } from "../../../operators/internal/random.js";
import type { ClearbitCombined, ClearbitErrorBody } from "./api.js";

/** Options of {@link startEnrichmentSimulator}. */
export interface EnrichmentSimulatorOptions {
  /** The key callers must send as `Authorization: Bearer`. Default "sk_sim". */
  readonly apiKey?: string;
  readonly latencyMs?: number;
  /** Share of calls answered 503 or 429. Default 0. */
  readonly failureRate?: number;
  readonly seed?: number;
  /** Domains the API knows nothing about. Default ["unknown.example"]. */
  readonly unknownDomains?: readonly string[];
}

/** A running enrichment simulator. */
export interface EnrichmentSimulator {
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Lookups answered (200 or 404), by email. */
  readonly lookups: Map<string, number>;
  readonly stats: {
    calls: number;
    found: number;
    notFound: number;
    failuresInjected: number;
  };
  setFailureRate(rate: number): void;
  close(): Promise<void>;
}

const FIRST = [
  "Alex",
  "Sam",
  "Maria",
  "Jon",
  "Priya",
  "Kenji",
  "Lena",
  "Omar",
  "Chloe",
  "Diego",
  "Ines",
  "Tom",
];
const LAST = [
  "Moreau",
  "Okafor",
  "Silva",
  "Berg",
  "Tanaka",
  "Novak",
  "Haddad",
  "Kim",
  "Rossi",
  "Walsh",
];
const TITLES = [
  "CTO",
  "Head of Data",
  "VP Engineering",
  "Procurement Lead",
  "CEO",
  "Staff Engineer",
  "Product Manager",
];

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++)
    h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const capital = (s: string): string =>
  s === "" ? s : s[0]!.toUpperCase() + s.slice(1);

/** The made-up answer for an email (exported so tests can state what they expect). */
export function simulatedPerson(email: string): ClearbitCombined {
  const [local = "", domain = ""] = email.split("@");
  const h = hash(email);
  const company = domain.split(".")[0] ?? domain;
  const given = FIRST[h % FIRST.length]!;
  const family = LAST[(h >>> 8) % LAST.length]!;
  return {
    person: {
      id: `p_${h.toString(16)}`,
      email,
      name: {
        fullName: `${given} ${family}`,
        givenName: given,
        familyName: family,
      },
      avatar: `https://avatars.example/${h.toString(16)}.png`,
      employment: {
        domain,
        name: capital(company),
        title: TITLES[(h >>> 16) % TITLES.length]!,
        role: null,
        seniority: null,
      },
      linkedin: {
        handle: `in/${local.replace(/[^a-z0-9]/gi, "-").toLowerCase()}`,
      },
    },
    company: {
      id: `c_${hash(domain).toString(16)}`,
      name: capital(company),
      domain,
      linkedin: { handle: `company/${company}` },
      metrics: { employees: 10 + (hash(domain) % 5000), employeesRange: null },
    },
  };
}

/**
 * Starts the enrichment simulator on 127.0.0.1 (a free port).
 *
 * @example
 * ```ts
 * const sim = await startEnrichmentSimulator({ failureRate: 0.2 });
 * const client = new EnrichmentClient({ baseUrl: sim.baseUrl, apiKey: sim.apiKey });
 * ```
 */
export async function startEnrichmentSimulator(
  options: EnrichmentSimulatorOptions = {},
): Promise<EnrichmentSimulator> {
  const apiKey = options.apiKey ?? "sk_sim";
  const unknown = new Set(options.unknownDomains ?? ["unknown.example"]);
  const random = seededRandom(options.seed ?? 11);
  let failureRate = options.failureRate ?? 0;
  const lookups = new Map<string, number>();
  const stats = { calls: 0, found: 0, notFound: 0, failuresInjected: 0 };
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const out = (): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if ((options.latencyMs ?? 0) > 0) setTimeout(out, options.latencyMs);
    else out();
  };
  const err = (type: string, message: string): ClearbitErrorBody => ({
    error: { type, message },
  });
  const server = await startLocalHttpServer((req, res) => {
    req.resume();
    req.on("end", () => {
      stats.calls++;
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (failureRate > 0 && random() < failureRate) {
        stats.failuresInjected++;
        if (random() < 0.5)
          send(
            res,
            503,
            err("service_unavailable", "Service temporarily unavailable"),
          );
        else send(res, 429, err("rate_limit", "Rate limit exceeded"));
        return;
      }
      if (req.headers.authorization !== `Bearer ${apiKey}`) {
        send(res, 401, err("auth_required", "Invalid API key"));
        return;
      }
      if (req.method !== "GET" || url.pathname !== "/v2/combined/find") {
        send(res, 404, err("not_found", `no route ${url.pathname}`));
        return;
      }
      const email = (url.searchParams.get("email") ?? "").toLowerCase();
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
        send(res, 422, err("email_invalid", "Invalid email"));
        return;
      }
      lookups.set(email, (lookups.get(email) ?? 0) + 1);
      const domain = email.split("@")[1] ?? "";
      if (unknown.has(domain) || email.startsWith("nobody")) {
        stats.notFound++;
        send(res, 404, err("unknown_record", "Unknown email address"));
        return;
      }
      stats.found++;
      send(res, 200, simulatedPerson(email));
    });
  });
  return {
    baseUrl: server.baseUrl,
    apiKey,
    lookups,
    stats,
    setFailureRate(rate) {
      failureRate = rate;
    },
    close: () => server.close(),
  };
}

// The person + company enrichment API the pipeline follows: Clearbit's Combined API
// (now HubSpot Breeze Intelligence), one lookup by email returning the person and their company.
// GET https://person.clearbit.com/v2/combined/find?email=alex@example.com
// Authorization: Bearer <secret key>
// 200 { person, company } (either may be null) · 202 lookup queued, ask again later ·
// 404 nobody known by that email · 422 invalid email · 401 bad key · 429 rate limited.
// Only the fields the pipeline stores are typed; the real answer carries many more.

/** `person` of the combined answer. */
export interface ClearbitPerson {
  readonly id: string;
  readonly email: string;
  readonly name: {
    readonly fullName: string | null;
    readonly givenName: string | null;
    readonly familyName: string | null;
  };
  readonly avatar: string | null;
  readonly employment: {
    readonly domain: string | null;
    readonly name: string | null;
    readonly title: string | null;
    readonly role?: string | null;
    readonly seniority?: string | null;
  };
  /** `handle` like "in/alex-maccaw" (URL = https://www.linkedin.com/ + handle). */
  readonly linkedin: { readonly handle: string | null };
}

/** `company` of the combined answer. */
export interface ClearbitCompany {
  readonly id: string;
  readonly name: string;
  readonly domain: string;
  /** `handle` like "company/clearbit". */
  readonly linkedin: { readonly handle: string | null };
  readonly metrics: {
    readonly employees: number | null;
    readonly employeesRange?: string | null;
  };
}

/** The combined answer. */
export interface ClearbitCombined {
  readonly person: ClearbitPerson | null;
  readonly company: ClearbitCompany | null;
}

/** Clearbit's error body: `{ error: { type, message } }`. */
export interface ClearbitErrorBody {
  readonly error: { readonly type: string; readonly message: string };
}

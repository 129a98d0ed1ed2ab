// Reading rendered manifests (`kustomize build` output) in the k3s tests, loosely typed.
import { parseAllDocuments } from "yaml";

/** A manifest object, any shape. */
export type Obj = { [k: string]: unknown };

/** The value as an object, or `{}` when it is none. */
export const o = (v: unknown): Obj =>
  v !== null && typeof v === "object" ? (v as Obj) : {};

/** The value as an array, or `[]` when it is none. */
export const a = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Every document of a multi-document YAML text. */
export function docs(text: string): Obj[] {
  return parseAllDocuments(text).map((d) => o(d.toJS()));
}

/** The pod spec of a workload (Deployment, StatefulSet, CronJob, Job). */
export function podSpec(w: Obj): Obj {
  const spec = o(w["spec"]);
  return w["kind"] === "CronJob"
    ? o(o(o(o(spec["jobTemplate"])["spec"])["template"])["spec"])
    : o(o(spec["template"])["spec"]);
}

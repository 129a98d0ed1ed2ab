import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** What `sluice demo <name>` passes to a pipeline's demo. */
export interface DemoArgs {
  /** Random seed, so runs repeat. */
  readonly seed: number;
  /** Partitions of each topic. */
  readonly partitions: number;
  /** How much work (orders, recipients, users…): the demo says what it counts; undefined = its default. */
  readonly size?: number;
  /** `local`: run on the services of `sluice stack up` instead of the embedded log and stores. */
  readonly stack?: "local";
  /** With `stack`: use (and keep) topics, keyspaces and schemas named after this id. */
  readonly keep?: string;
}

/** One demo a pipeline offers. */
export interface DemoEntry {
  /** One line for `sluice demo --help`. */
  readonly description: string;
  /** What `--size` counts, e.g. "orders" (shown in help). */
  readonly sizeUnit?: string;
  /** Runs the demo to the end, printing its progress and summary. */
  run(args: DemoArgs): Promise<void>;
}

/**
 * What a pipeline folder exports from its `entry.ts` as `entry`: its jobs for `sluice run <name>`
 * and its demos for `sluice demo <name>`. The CLI finds every `pipelines/<folder>/entry.js` at
 * start, so a new pipeline registers itself without editing the CLI. Keep the module light:
 * import the job modules lazily inside the loaders.
 */
export interface PipelineEntry {
  /** Job name → loader of the module whose default export is `defineJob({...})`. */
  readonly jobs?: { readonly [name: string]: () => Promise<unknown> };
  /** Demo name → demo. */
  readonly demos?: { readonly [name: string]: DemoEntry };
}

/** Every job and demo found under `pipelines/`. */
export interface PipelineCatalog {
  readonly jobs: ReadonlyMap<string, () => Promise<unknown>>;
  readonly demos: ReadonlyMap<string, DemoEntry>;
}

function isEntry(value: unknown): value is PipelineEntry {
  return typeof value === "object" && value !== null;
}

/**
 * Imports `pipelines/<folder>/entry.js` (or `entry.ts` when running from source) of every
 * folder. A name registered twice is an error naming both folders.
 */
export async function discoverPipelines(
  root: URL = new URL("../pipelines/", import.meta.url),
): Promise<PipelineCatalog> {
  const jobs = new Map<string, () => Promise<unknown>>();
  const demos = new Map<string, DemoEntry>();
  const owner = new Map<string, string>();
  const dir = fileURLToPath(root);
  if (!existsSync(dir)) return { jobs, demos };
  const folders = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  for (const folder of folders) {
    const file = ["entry.js", "entry.ts"]
      .map((f) => new URL(`${folder}/${f}`, root))
      .find((u) => existsSync(fileURLToPath(u)));
    if (file === undefined) continue;
    const mod = (await import(file.href)) as { readonly entry?: unknown };
    if (!isEntry(mod.entry))
      throw new Error(
        `pipelines/${folder}/entry: exports no \`entry\` (export const entry: PipelineEntry = { jobs, demos })`,
      );
    const entry = mod.entry;
    const claim = (kind: "job" | "demo", name: string): void => {
      const key = `${kind}:${name}`;
      const first = owner.get(key);
      if (first !== undefined)
        throw new Error(
          `${kind} "${name}" is registered by both pipelines/${first} and pipelines/${folder}`,
        );
      owner.set(key, folder);
    };
    for (const [name, load] of Object.entries(entry.jobs ?? {})) {
      claim("job", name);
      jobs.set(name, load);
    }
    for (const [name, demo] of Object.entries(entry.demos ?? {})) {
      claim("demo", name);
      demos.set(name, demo);
    }
  }
  return { jobs, demos };
}

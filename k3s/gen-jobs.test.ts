import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
// @ts-expect-error -- plain ESM script without types (k3s/gen-jobs.mjs)
import * as gen from "./gen-jobs.mjs";

interface Job {
  readonly name: string;
}
const { readSpec, wanted, jobsDrift } = gen as {
  readSpec(file?: string): Job[];
  wanted(jobs?: Job[]): Map<string, string>;
  jobsDrift(): string[];
};

function spec(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "sluice-jobs-")), "jobs.yaml");
  writeFileSync(file, text);
  return file;
}

type Obj = { [k: string]: unknown };

describe("k3s/gen-jobs.mjs", () => {
  it("committed manifests match k3s/jobs.yaml (run node k3s/gen-jobs.mjs after editing it)", () => {
    expect(jobsDrift()).toEqual([]);
  });

  it("writes a CronJob with its time zone, one firing at a time and the runtime's probes", () => {
    const files = wanted(
      readSpec(
        spec(`jobs:
  - name: promo
    kind: cronjob
    description: test
    schedule: "1 0 * * *"
    timeZone: Asia/Jakarta
    database: true
`),
      ),
    );
    const text = files.get("k3s/base/jobs/promo/workload.yaml");
    const cron = parseAllDocuments(text ?? "")[0]?.toJS() as Obj;
    expect(cron).toMatchObject({
      kind: "CronJob",
      spec: {
        schedule: "1 0 * * *",
        timeZone: "Asia/Jakarta",
        concurrencyPolicy: "Forbid",
        jobTemplate: {
          spec: {
            template: {
              spec: {
                restartPolicy: "Never",
                containers: [
                  {
                    args: ["run", "promo"],
                    readinessProbe: { httpGet: { path: "/readyz" } },
                    env: [{ name: "DATABASE_URL" }],
                  },
                ],
              },
            },
          },
        },
      },
    });
    expect(files.get("argocd/applicationset.yaml")).toContain(
      "- part: promo\n",
    );
  });

  it("names the job and the field of a bad entry", () => {
    expect(() =>
      readSpec(
        spec(
          "jobs:\n  - name: x\n    kind: cronjob\n    description: d\n    schedule: '1 0 * * *'\n    timeZone: Mars/Olympus\n",
        ),
      ),
    ).toThrow(/jobs\[0\] \(x\): timeZone must be an IANA zone/);
    expect(() =>
      readSpec(
        spec(
          "jobs:\n  - name: x\n    kind: cronjob\n    description: d\n    schedule: '1 0 *'\n    timeZone: UTC\n",
        ),
      ),
    ).toThrow(/schedule must be a 5-field cron expression/);
    expect(() =>
      readSpec(spec("jobs:\n  - name: x\n    kind: sidecar\n")),
    ).toThrow(/kind must be deployment or cronjob/);
  });
});

import { join } from "node:path";
import {
  avroAssetDir,
  createCodec,
  defaultSchemaStore,
  SchemaStore,
  type Codec,
} from "../../avro/index.js";
import type { DeliveryResult, JobIdPage } from "./types.js";

/** A dead letter as written to `outreach-dead-letters` (Avro `dev.sluice.common.DeadLetter`). */
export interface DeadLetterRecord {
  readonly deadLetterId: string;
  readonly reasonCode: string;
  readonly message: string;
  readonly stage: string;
  readonly job: string;
  readonly originTopic: string;
  readonly originPartition: number;
  readonly originOffset: number;
  readonly key: Buffer | null;
  readonly headers: { readonly [name: string]: Buffer };
  readonly originalBytes: Buffer;
  readonly attempts: number;
  readonly failedAt: Date;
}

/** The Avro codecs of every outreach topic. */
export interface OutreachCodecs {
  readonly jobPage: Codec<JobIdPage>;
  readonly result: Codec<DeliveryResult>;
  readonly deadLetter: Codec<DeadLetterRecord>;
}

let codecs: OutreachCodecs | undefined;

/**
 * The outreach schemas live in `avro/schemas/outreach/` (its own store, loaded in reference
 * order); dead letters use the shared `dev.sluice.common.DeadLetter`.
 *
 * @example
 * ```ts
 * const bytes = outreachCodecs().jobPage.encode(page);
 * ```
 */
export function outreachCodecs(): OutreachCodecs {
  if (codecs !== undefined) return codecs;
  const store = SchemaStore.load(join(avroAssetDir("schemas"), "outreach"));
  codecs = {
    jobPage: createCodec<JobIdPage>(
      store.type("dev.sluice.outreach.JobIdPage"),
      {
        store,
      },
    ),
    result: createCodec<DeliveryResult>(
      store.type("dev.sluice.outreach.DeliveryResult"),
      { store },
    ),
    deadLetter: createCodec<DeadLetterRecord>("dev.sluice.common.DeadLetter", {
      store: defaultSchemaStore(),
    }),
  };
  return codecs;
}

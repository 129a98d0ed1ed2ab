// The example job of runtime/job.ts: `sluice run demo-count` runs it.
import { Counter } from "prom-client";
import { lastValueFrom } from "rxjs";
import { z } from "zod";
import { keyedProcess } from "../../operators/keyed-process.js";
import { valueState } from "../../operators/keyed-state.js";
import { memoryStateBackend } from "../../operators/memory-state-backend.js";
import { MemoryLog } from "../../connectors/memory/log.js";
import { memorySource } from "../../connectors/memory/source.js";
import { defineJob } from "../../runtime/job.js";

const COUNT = valueState<number>("count");

/**
 * A keyed count over generated events on the embedded memory log, with its state and
 * offsets checkpointed together: the smallest complete Sluice job.
 *
 * @example
 * ```sh
 * sluice run demo-count --port 9464   # then curl localhost:9464/readyz; Ctrl-C drains and checkpoints
 * ```
 */
export default defineJob({
  name: "demo-count",
  description: "Counts generated events per key on the in-memory log.",
  config: z
    .object({
      events: z.number().int().positive().default(10_000),
      keys: z.number().int().positive().default(100),
      partitions: z.number().int().positive().default(4),
    })
    .strict(),
  async run(ctx) {
    const log = new MemoryLog();
    log.createTopic("events", { partitions: ctx.config.partitions });
    for (let i = 0; i < ctx.config.events; i++)
      log.append("events", { key: `k${i % ctx.config.keys}`, value: i });
    const state = memoryStateBackend();
    const source = ctx.addSource(
      memorySource<number>(log, { group: ctx.name, topics: ["events"] }),
      { state },
    );
    const counted = new Counter({
      name: "demo_counted_total",
      help: "Events counted.",
      registers: [ctx.metrics],
    });
    const done = lastValueFrom(
      source.records().pipe(
        keyedProcess<number, never>({
          backend: state,
          process: (_record, k) => {
            const c = k.state(COUNT);
            c.update((c.value() ?? 0) + 1);
            counted.inc();
          },
        }),
      ),
      { defaultValue: undefined },
    );
    ctx.ready();
    await done; // the source completes when shutdown closes it
    ctx.logger.info("counted", { events: ctx.config.events });
  },
});

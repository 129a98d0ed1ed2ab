import { filter, lastValueFrom, map, toArray } from "rxjs";
import {
  memorySink,
  memorySource,
  MemoryLog,
} from "../../connectors/memory/index.js";
import { writeTo } from "../../connectors/write-to.js";
import {
  counter,
  derive,
  isRecord,
  tumblingWindow,
  withWatermarks,
} from "../../operators/index.js";

export async function clicksPerMinute(
  clicks: readonly (readonly [user: string, second: number])[] = [
    ["ada", 1],
    ["bo", 2],
    ["ada", 30],
    ["ada", 61],
  ],
  partitions = 2,
): Promise<string[]> {
  const log = new MemoryLog();
  log.createTopic("clicks", { partitions });
  log.createTopic("clicks-per-minute", { partitions: 2 });
  for (const [user, second] of clicks) {
    log.append("clicks", {
      key: user,
      value: { user },
      timestamp: second * 1000,
    });
  }

  const source = memorySource<{ user: string }>(log, {
    group: "counts",
    topics: ["clicks"],
    stopAtEnd: true,
  });
  const sink = memorySink<string>(log, { topic: "clicks-per-minute" });
  const written = source.records().pipe(
    withWatermarks({ maxOutOfOrdernessMs: 5_000 }),
    tumblingWindow({ sizeMs: 60_000, aggregate: counter() }),
    filter(isRecord),
    map((r) =>
      derive(
        r,
        `${r.value.key} ${r.value.windowStart / 1000}s: ${r.value.result}`,
      ),
    ),
    writeTo(sink, { maxBatch: 100 }), // acks each window's input records once written
  );
  await lastValueFrom(written.pipe(toArray()));
  await source.close(); // commits: every input record was acked through its window result
  return [0, 1].flatMap((p) =>
    log.read("clicks-per-minute", p, 0, 100).map((e) => String(e.value)),
  );
}

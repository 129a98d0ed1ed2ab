import { sourceConformance } from "../testing/conformance.js";
import { intakeConformance } from "../testing/intake-conformance.js";
import type { SourceHarness } from "../testing/harness.js";
import { sinkConformance } from "../testing/sink-conformance.js";
import { MemoryLog } from "./log.js";
import { memorySink } from "./sink.js";
import { memorySource } from "./source.js";

// One log for the whole file, like one broker: every test gets a fresh topic and group.
const log = new MemoryLog();
let n = 0;

const sourceHarness = (): Promise<SourceHarness> => {
  const topic = `conformance-source-${++n}`;
  log.createTopic(topic, { partitions: 3 });
  return Promise.resolve({
    topic,
    partitions: 3,
    produce: (records) => {
      for (const r of records) log.append(topic, r);
      return Promise.resolve();
    },
    createSource: (o) =>
      Promise.resolve(
        memorySource<string>(log, {
          ...o,
          topics: [topic],
          commitIntervalMs: 20,
        }),
      ),
    cleanup: () => Promise.resolve(),
  });
};

sourceConformance("memory", sourceHarness);
intakeConformance("memory", sourceHarness);

sinkConformance("memory", async () => {
  const topic = `conformance-sink-${++n}`;
  log.createTopic(topic, { partitions: 3 });
  return Promise.resolve({
    topic,
    createSink: () => Promise.resolve(memorySink<string>(log, { topic })),
    readBack: () => {
      const out: { key: string; value: string }[] = [];
      for (let p = 0; p < log.partitionCount(topic); p++) {
        for (const r of log.read(topic, p, 0, Number.MAX_SAFE_INTEGER))
          out.push({ key: r.key ?? "", value: r.value as string });
      }
      return Promise.resolve(out);
    },
    cleanup: () => Promise.resolve(),
  });
});

/**
 * The three simulators in a worker thread, for the benchmark: their state (the outreach
 * service's set of sent keys grows with every email) lives in the worker's own heap, so the
 * pipeline's heap curve in the main thread shows only the pipeline. The outreach simulator's
 * results are posted to the parent (`{ type: "results", results }`), which writes them to the
 * results topic: the callback wiring of the tests, across threads. (The worker imports no
 * Kafka client: the native confluent addon cannot load in a worker thread.)
 *
 * Messages: parent → `{ type: "stop" }`; worker → `{ type: "ready", urls }`, `results`,
 * `{ type: "stats", sent, duplicates, pendingResults }` (every 200 ms and on stop).
 */
import { parentPort, workerData } from "node:worker_threads";
import {
  startJobServiceSimulator,
  startOutreachServiceSimulator,
  startSegmentServiceSimulator,
  type SimulatedSegment,
} from "./simulators.js";

/** What the parent passes as `workerData`. */
export interface SimulatorWorkerData {
  readonly apiKey: string;
  readonly segments: readonly SimulatedSegment[];
  readonly latencyMs: number;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null)
    throw new Error("simulators-worker must run in a worker thread");
  const d = workerData as SimulatorWorkerData;
  const chaos = { latencyMs: d.latencyMs };
  const segment = await startSegmentServiceSimulator({
    apiKey: d.apiKey,
    segments: d.segments,
    ...chaos,
  });
  const jobs = await startJobServiceSimulator({
    apiKey: d.apiKey,
    segments: d.segments,
    ...chaos,
  });
  const outreach = await startOutreachServiceSimulator({
    apiKey: d.apiKey,
    ...chaos,
    resultDelayMs: 1,
    onResults: (rs) => {
      port.postMessage({ type: "results", results: rs });
    },
  });
  const stats = () => ({
    type: "stats",
    sent: outreach.sent,
    duplicates: outreach.duplicates,
    pendingResults: outreach.pendingResults,
  });
  const timer = setInterval(() => port.postMessage(stats()), 200);
  port.on("message", (m: { type?: string }) => {
    if (m.type !== "stop") return;
    clearInterval(timer);
    void (async () => {
      await outreach.drained();
      await Promise.all([segment.close(), jobs.close(), outreach.close()]);
      port.postMessage(stats());
      port.close();
    })();
  });
  port.postMessage({
    type: "ready",
    urls: { segment: segment.url, jobs: jobs.url, outreach: outreach.url },
  });
}

await main();

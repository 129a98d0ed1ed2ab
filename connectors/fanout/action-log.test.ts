import { memoryFiringStore } from "../schedule/store.js";
import { memoryActionLog } from "./action-log.js";
import { memorySendAtQueue } from "./send-at-queue.js";
import {
  actionLogConformance,
  firingStoreConformance,
  sendAtQueueConformance,
} from "./testing/conformance.js";

actionLogConformance("memory", () => Promise.resolve(memoryActionLog()));
sendAtQueueConformance("memory", () => Promise.resolve(memorySendAtQueue()));
firingStoreConformance("memory", () => Promise.resolve(memoryFiringStore()));

import { memoryBriefRepo } from "./memory-repo.js";
import { describeBriefRepo } from "./testing/repo-conformance.js";

describeBriefRepo("memory", () => Promise.resolve(memoryBriefRepo()));

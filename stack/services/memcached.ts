import { StackError } from "../errors.js";
import { logPath, pidPath } from "../paths.js";
import { spawnDaemon, stopDaemon, which } from "../process.js";
import { check } from "../probes.js";
import { aptInstall } from "../tooling.js";
import type { Endpoints, EventSink } from "../types.js";
import { isLoopback, type ServiceDriver } from "./driver.js";

const LOG = logPath("memcached");

/** memcached from the Debian package, run in the foreground of its own process group. */
export const memcached: ServiceDriver = {
  name: "memcached",
  canStart: (e: Endpoints) =>
    e.memcachedServers.length === 1 &&
    e.memcachedServers.every((s) => isLoopback(s, 11211)),

  async start(e: Endpoints, emit: EventSink) {
    let bin = await which("memcached");
    if (bin === undefined) {
      await aptInstall("memcached", ["memcached"], emit);
      // The package's init script may have started one already.
      if ((await check("memcached", e, 2000)).ok) return "reuse";
      bin = await which("memcached");
      if (bin === undefined) {
        throw new StackError(
          "memcached",
          "memcached is still missing after apt-get install memcached",
          LOG,
        );
      }
    }
    emit({
      service: "memcached",
      phase: "starting",
      message: "starting on 127.0.0.1:11211 (64 MB)",
    });
    const args = ["-u", "root", "-l", "127.0.0.1", "-p", "11211", "-m", "64"];
    await spawnDaemon(bin, args, {
      log: LOG,
      pidFile: pidPath("memcached"),
      marker: `${bin} ${args.join(" ")}`,
    });
    return "started";
  },

  stop: () => stopDaemon(pidPath("memcached"), 5_000),
};

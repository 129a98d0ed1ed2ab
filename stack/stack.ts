import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ENV_VARS, endpoints, redactUrl } from "./endpoints.js";
import { StackError, messageOf } from "./errors.js";
import { logPath, pidPath, stateDir } from "./paths.js";
import { addressOf, check } from "./probes.js";
import { livePid, tail, withLock } from "./process.js";
import { cassandra } from "./services/cassandra.js";
import type { ServiceDriver } from "./services/driver.js";
import { kafka } from "./services/kafka.js";
import { memcached } from "./services/memcached.js";
import { postgres } from "./services/postgres.js";
import {
  SERVICE_NAMES,
  type Endpoints,
  type EventSink,
  type ServiceName,
  type ServiceStatus,
  type StackEvent,
} from "./types.js";

const DRIVERS: Readonly<Record<ServiceName, ServiceDriver>> = {
  kafka,
  cassandra,
  postgres,
  memcached,
};

/** Default bound for `stackUp`: covers a cold Maven download and a slow first Cassandra start. */
const DEFAULT_TIMEOUT_MS = 600_000;

const lockPath = (): string => join(stateDir(), "stack.lock");

const printable = (service: ServiceName, e: Endpoints): string =>
  service === "postgres"
    ? redactUrl(addressOf(service, e))
    : addressOf(service, e);

async function failure(
  service: ServiceName,
  reason: string,
  cause?: unknown,
): Promise<StackError> {
  const log = logPath(service);
  let lines = await tail(log, 20);
  const extra = DRIVERS[service].extraLog?.();
  if (extra !== undefined) {
    const more = await tail(extra, 20);
    if (more !== "") lines += `\n  --- ${extra} ---\n${more}`;
  }
  return new StackError(service, reason, log, lines, { cause });
}

async function waitReady(
  service: ServiceName,
  e: Endpoints,
  deadline: number,
  started: boolean,
): Promise<string> {
  let last = "";
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const r = await check(service, e, Math.min(5_000, remaining));
    if (r.ok) return r.detail;
    last = r.detail;
    if (started && (await livePid(pidPath(service))) === undefined) {
      // pg_ctlcluster-managed or exited: only a fatal exit matters for daemons we spawn.
      if (service !== "postgres") {
        throw await failure(
          service,
          `the process exited before answering (last probe: ${last})`,
        );
      }
    }
    await sleep(Math.min(1_000, Math.max(0, deadline - Date.now())));
  }
  throw await failure(
    service,
    `not ready before the deadline (last probe: ${last})`,
  );
}

async function upOne(
  service: ServiceName,
  e: Endpoints,
  deadline: number,
  emit: EventSink,
): Promise<ServiceStatus> {
  const driver = DRIVERS[service];
  const address = printable(service, e);
  const log = logPath(service);
  const first = await check(service, e, 3_000);
  const ours = await livePid(pidPath(service));
  if (first.ok) {
    emit({
      service,
      phase: "reused",
      message: `${address} already answers (${first.detail})${ours === undefined ? "" : `, pid ${ours}`}`,
    });
    return {
      service,
      address,
      healthy: true,
      managed: ours !== undefined,
      ...(ours === undefined ? {} : { pid: ours, log }),
      detail: first.detail,
    };
  }
  if (!driver.canStart(e)) {
    throw new StackError(
      service,
      `${address} (from ${ENV_VARS[service]}) does not answer: ${first.detail}. ` +
        `stack/ only starts services on the loopback default; unset ${ENV_VARS[service]} or start that service.`,
    );
  }
  let started: boolean;
  if (ours === undefined || service === "postgres") {
    try {
      const how = await driver.start(e, emit);
      started = how === "started";
    } catch (err) {
      if (err instanceof StackError) throw err;
      throw await failure(service, `could not start: ${messageOf(err)}`, err);
    }
  } else {
    emit({
      service,
      phase: "waiting",
      message: `our process (pid ${ours}) is still starting`,
    });
    started = true;
  }
  emit({ service, phase: "waiting", message: `waiting for ${address}` });
  const t0 = Date.now();
  const detail = await waitReady(service, e, deadline, started);
  const pid = await livePid(pidPath(service));
  emit({
    service,
    phase: "ready",
    message: `${address} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${detail})`,
  });
  return {
    service,
    address,
    healthy: true,
    managed: pid !== undefined,
    ...(pid === undefined ? {} : { pid }),
    log,
    detail,
  };
}

/**
 * Starts (or reuses) the local services, in parallel, and waits until each answers.
 * Throws a `StackError` naming the service, the reason and its log.
 *
 * @example
 * const statuses = await stackUp({ onEvent: (e) => console.log(e.service, e.phase, e.message) });
 */
export async function stackUp(
  options: {
    readonly services?: readonly ServiceName[];
    readonly timeoutMs?: number;
    readonly onEvent?: (e: StackEvent) => void;
  } = {},
): Promise<ServiceStatus[]> {
  const services = options.services ?? SERVICE_NAMES;
  const emit: EventSink = options.onEvent ?? (() => undefined);
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const e = endpoints();
  await mkdir(join(stateDir(), "logs"), { recursive: true });
  const results = await withLock(lockPath(), deadline - Date.now(), () =>
    Promise.allSettled(services.map((s) => upOne(s, e, deadline, emit))),
  );
  const statuses: ServiceStatus[] = [];
  let firstError: StackError | undefined;
  results.forEach((r, i) => {
    const service = services[i];
    if (service === undefined) return;
    if (r.status === "fulfilled") {
      statuses.push(r.value);
      return;
    }
    const err: unknown = r.reason;
    const stackError =
      err instanceof StackError
        ? err
        : new StackError(service, messageOf(err), logPath(service));
    emit({ service, phase: "failed", message: stackError.message });
    firstError ??= stackError;
  });
  if (firstError !== undefined) throw firstError;
  return statuses;
}

/**
 * Stops the processes `stackUp` started (recorded pids only: SIGTERM, wait, SIGKILL).
 * Services we reused are left alone.
 */
export async function stackDown(
  options: { readonly onEvent?: (e: StackEvent) => void } = {},
): Promise<void> {
  const emit: EventSink = options.onEvent ?? (() => undefined);
  await withLock(lockPath(), DEFAULT_TIMEOUT_MS, () =>
    Promise.all(
      SERVICE_NAMES.map(async (service) => {
        const pid = await livePid(pidPath(service));
        if (pid === undefined) return;
        emit({ service, phase: "stopping", message: `stopping pid ${pid}` });
        await DRIVERS[service].stop(emit);
        emit({ service, phase: "stopped", message: `pid ${pid} stopped` });
      }),
    ),
  );
}

/** Health of every service: does it answer, and did we start it. */
export async function stackStatus(): Promise<ServiceStatus[]> {
  const e = endpoints();
  return Promise.all(
    SERVICE_NAMES.map(async (service): Promise<ServiceStatus> => {
      const [r, pid] = await Promise.all([
        check(service, e, 3_000),
        livePid(pidPath(service)),
      ]);
      return {
        service,
        address: printable(service, e),
        healthy: r.ok,
        managed: pid !== undefined,
        ...(pid === undefined ? {} : { pid }),
        log: logPath(service),
        detail: r.detail,
      };
    }),
  );
}

/** Where each service's log is written (`<state>/logs/<service>.log`). */
export function logFiles(): {
  readonly service: ServiceName;
  readonly path: string;
}[] {
  return SERVICE_NAMES.map((service) => ({ service, path: logPath(service) }));
}

/**
 * For integration tests: resolves endpoints and checks each named service answers within a few
 * seconds, else throws an Error naming the variable to set and `npm run stack:up`.
 *
 * @example
 * beforeAll(async () => { env = await requireServices(["kafka"]); });
 */
export async function requireServices(
  names: readonly ServiceName[],
): Promise<Endpoints> {
  const e = endpoints();
  const results = await Promise.all(
    names.map(async (service) => ({
      service,
      r: await check(service, e, 5_000),
    })),
  );
  const missing = results.filter((x) => !x.r.ok);
  if (missing.length > 0) {
    const lines = missing.map(
      ({ service, r }) =>
        `- ${service} does not answer at ${printable(service, e)} (${r.detail}); ` +
        `set ${ENV_VARS[service]} to a running ${service}, or start the local stack with \`npm run stack:up\``,
    );
    throw new Error(
      `required services are not available:\n${lines.join("\n")}`,
    );
  }
  return e;
}

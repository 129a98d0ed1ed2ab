/** The services `stack/` can provide on loopback. */
export type ServiceName = "kafka" | "cassandra" | "postgres" | "memcached";

/** Every service, in the order they are reported. */
export const SERVICE_NAMES: readonly ServiceName[] = [
  "kafka",
  "cassandra",
  "postgres",
  "memcached",
];

/** Where each service is reached: environment variables first, loopback defaults otherwise. */
export interface Endpoints {
  readonly kafkaBrokers: readonly string[];
  readonly cassandraContactPoints: readonly string[];
  readonly cassandraLocalDc: string;
  readonly databaseUrl: string;
  readonly memcachedServers: readonly string[];
}

/** Health of one service as seen by `stackStatus` or returned by `stackUp`. */
export interface ServiceStatus {
  readonly service: ServiceName;
  readonly address: string;
  readonly healthy: boolean;
  /** True when the running process was started by `stack/` (and `stackDown` will stop it). */
  readonly managed: boolean;
  readonly pid?: number;
  readonly log?: string;
  readonly detail?: string;
}

/** Progress reported by `stackUp` and `stackDown`. */
export interface StackEvent {
  readonly service: ServiceName;
  readonly phase:
    | "resolving"
    | "starting"
    | "waiting"
    | "ready"
    | "reused"
    | "failed"
    /** Reported by `stackDown` (an addition to the agreed union). */
    | "stopping"
    | "stopped";
  readonly message: string;
}

/** Receives progress events. */
export type EventSink = (e: StackEvent) => void;

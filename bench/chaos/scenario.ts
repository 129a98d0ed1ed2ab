import type { ChaosKafka } from "./kafka.js";
import type { ChaosService } from "./services.js";
import type pg from "pg";

/** What a scenario is given: the private services' clients. */
export interface ScenarioContext {
  readonly kafka: ChaosKafka;
  /** A pool on the private PostgreSQL (reconnects per query after a restart). */
  readonly pg: pg.Pool;
  readonly cassandraContactPoint: string;
  readonly seed: number;
  readonly progress: (line: string) => void;
}

/** The outcome of one job's run, computed without Sluice's code. */
export interface Verdict {
  /** Effects the input calls for (e.g. distinct review versions). */
  readonly expected: number;
  /** Effects found in the outputs. */
  readonly got: number;
  readonly lost: number;
  readonly doubled: number;
  readonly wrong: number;
  /** A few concrete examples, for the report. */
  readonly examples: readonly string[];
}

/** One stateful deployed job under test. */
export interface Scenario {
  /** `sluice run <job>`. */
  readonly job: string;
  /** Private services it needs. */
  readonly services: readonly ChaosService[];
  /** The topic it reads, and its consumer group (the deployed defaults). */
  readonly inputTopic: string;
  readonly group: string;
  readonly partitions: number;
  /** Extra environment beyond the services' addresses (deployed values only). */
  readonly env: Readonly<Record<string, string>>;
  /** Other deployed jobs it talks to, one process each, started first (not under test, but restarted when they crash). */
  readonly helpers?: readonly {
    readonly job: string;
    readonly env: Readonly<Record<string, string>>;
  }[];
  /** Creates what the job expects to exist before it starts (catalogue rows, topics). */
  prepare(ctx: ScenarioContext): Promise<void>;
  /** Writes the next `n` input records. */
  produce(ctx: ScenarioContext, n: number): Promise<void>;
  /** Reads the input back and the outputs, and compares. */
  check(ctx: ScenarioContext): Promise<Verdict>;
}

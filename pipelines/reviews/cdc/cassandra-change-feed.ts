import { spawn, type ChildProcessByStdio } from "node:child_process";
import { readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import cassandra from "cassandra-driver";
import { Observable } from "rxjs";
import {
  SEGMENT_END_OFFSET,
  type ChangeFeed,
  type ChangeOp,
  type ChangePosition,
  type FeedItem,
} from "./change-feed.js";
import { buildReader, sluiceStateDir } from "./reader-build.js";

/** Options of {@link cassandraChangeFeed}. */
export interface CassandraChangeFeedOptions {
  /** CDC tables to read, `keyspace.table`, each created `WITH cdc = true`. */
  readonly tables: readonly string[];
  /** Default `["127.0.0.1:9042"]`. */
  readonly contactPoints?: readonly string[];
  /** Default `"datacenter1"`. */
  readonly localDataCenter?: string;
  /**
   * The node's cassandra.yaml (the reader takes cdc_raw_directory and commit-log settings
   * from it). Default: the one `stack/` renders, `$SLUICE_STATE_DIR/cassandra/cassandra.yaml`.
   */
  readonly cassandraYaml?: string;
  /** JDK 17 with javac. Default `$SLUICE_JAVA_HOME` or `/usr/lib/jvm/java-17-openjdk-amd64`. */
  readonly javaHome?: string;
  /** How often the reader looks at the `_cdc.idx` offsets. Default 200. */
  readonly pollMs?: number;
}

interface ReaderLine {
  readonly type?: string;
  readonly cdcRaw?: string;
  readonly keyspace?: string;
  readonly table?: string;
  readonly key?: { [column: string]: string };
  readonly op?: ChangeOp;
  readonly writetimeMicros?: number;
  readonly segmentId?: number;
  readonly offset?: number;
  readonly index?: number;
  readonly message?: string;
}

/** Module flags cassandra-all needs on JDK 17 for the classes the reader touches. */
const JPMS_FLAGS: readonly string[] = [
  ...[
    "java.base/jdk.internal.misc",
    "java.base/jdk.internal.ref",
    "java.base/sun.nio.ch",
    "java.base/java.lang.ref",
    "jdk.unsupported/sun.misc",
  ].flatMap((p) => ["--add-exports", `${p}=ALL-UNNAMED`]),
  ...[
    "java.base/java.lang",
    "java.base/java.nio",
    "java.base/sun.nio.ch",
    "java.base/java.io",
    "java.base/java.util",
    "java.base/jdk.internal.ref",
  ].flatMap((p) => ["--add-opens", `${p}=ALL-UNNAMED`]),
];

const SEGMENT_FILE = /^CommitLog-\d+-(\d+)(?:_cdc\.idx|\.log)$/;

/**
 * Cassandra's change data capture as a {@link ChangeFeed}: a small Java process
 * (`java/CdcReader.java`, cassandra-all's CommitLogReader) reads the commit-log segments
 * Cassandra hard-links into cdc_raw, incrementally up to the synced offset in each
 * `_cdc.idx`, and prints one JSON line per partition update of the watched tables. Table
 * metadata (with its id) comes from `DESCRIBE TABLE … WITH INTERNALS`. `commit` deletes the
 * completed segments at or before the position, which keeps cdc_total_space from filling.
 * Run it on the Cassandra host, as a user that may delete files in cdc_raw.
 *
 * @example
 * ```ts
 * const feed = cassandraChangeFeed({ tables: ["reviews.reviews"] });
 * ```
 */
export class CassandraChangeFeed implements ChangeFeed {
  readonly name = "cassandra-cdc";
  private child: ChildProcessByStdio<Writable, Readable, Readable> | undefined;
  private cdcRaw: string | undefined;
  private pendingCommit: ChangePosition | undefined;
  private stderrTail: string[] = [];
  private pauseReader: (() => void) | undefined;
  private resumeReader: (() => void) | undefined;
  private closed = false;

  constructor(private readonly options: CassandraChangeFeedOptions) {
    if (options.tables.length === 0) {
      throw new RangeError(
        "cassandraChangeFeed.tables must name at least one table",
      );
    }
    for (const t of options.tables) {
      if (!/^\w+\.\w+$/.test(t)) {
        throw new RangeError(
          `cassandraChangeFeed.tables: "${t}" is not keyspace.table`,
        );
      }
    }
  }

  /** Directory of the raw segments, known once the reader is ready. */
  get cdcRawDirectory(): string | undefined {
    return this.cdcRaw;
  }

  changes(from: ChangePosition | undefined): Observable<FeedItem> {
    return new Observable<FeedItem>((subscriber) => {
      this.start(from, (item) => subscriber.next(item))
        .then(() => subscriber.complete())
        .catch((e: unknown) => subscriber.error(e));
      // The reader exits on end of stdin; its exit is awaited by close().
      return () => void this.stopChild();
    });
  }

  async commit(position: ChangePosition): Promise<void> {
    if (this.cdcRaw === undefined) {
      this.pendingCommit = position;
      return;
    }
    const names = await readdir(this.cdcRaw);
    for (const name of names) {
      const m = SEGMENT_FILE.exec(name);
      if (m?.[1] === undefined) continue;
      const id = Number(m[1]);
      const done =
        id < position.segmentId ||
        (id === position.segmentId && position.offset === SEGMENT_END_OFFSET);
      if (!done) continue;
      try {
        await unlink(join(this.cdcRaw, name));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    }
  }

  pause(): void {
    this.pauseReader?.();
  }

  resume(): void {
    this.resumeReader?.();
  }

  close(): Promise<void> {
    this.closed = true;
    return this.stopChild();
  }

  private async tableStatements(): Promise<
    { keyspace: string; cql: string }[]
  > {
    const client = new cassandra.Client({
      contactPoints: [...(this.options.contactPoints ?? ["127.0.0.1:9042"])],
      localDataCenter: this.options.localDataCenter ?? "datacenter1",
    });
    try {
      await client.connect();
      const out: { keyspace: string; cql: string }[] = [];
      for (const t of this.options.tables) {
        const [keyspace = "", table = ""] = t.split(".");
        const rs = await client.execute(
          `DESCRIBE TABLE "${keyspace}"."${table}" WITH INTERNALS`,
        );
        const cql: unknown = rs.first()?.get("create_statement");
        if (typeof cql !== "string") {
          throw new Error(`${this.name}: no CREATE statement for ${t}`);
        }
        if (!/\bcdc = true\b/.test(cql)) {
          throw new Error(`${this.name}: ${t} is not created WITH cdc = true`);
        }
        out.push({ keyspace, cql });
      }
      return out;
    } finally {
      await client.shutdown();
    }
  }

  private async start(
    from: ChangePosition | undefined,
    emit: (item: FeedItem) => void,
  ): Promise<void> {
    if (this.closed) return;
    const javaHome =
      this.options.javaHome ??
      (process.env["SLUICE_JAVA_HOME"] !== undefined &&
      process.env["SLUICE_JAVA_HOME"] !== ""
        ? process.env["SLUICE_JAVA_HOME"]
        : "/usr/lib/jvm/java-17-openjdk-amd64");
    const [reader, tables] = await Promise.all([
      buildReader(javaHome),
      this.tableStatements(),
    ]);
    if (this.closed) return;
    const yaml =
      this.options.cassandraYaml ??
      join(sluiceStateDir(), "cassandra", "cassandra.yaml");
    const child = spawn(
      join(javaHome, "bin", "java"),
      [
        "-Xmx256m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        ...JPMS_FLAGS,
        `-Dcassandra.config=file://${yaml}`,
        `-Dlogback.configurationFile=${reader.logbackXml}`,
        "-cp",
        reader.classpath,
        "dev.sluice.cdc.CdcReader",
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    this.child = child;
    createInterface({ input: child.stderr }).on("line", (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 40) this.stderrTail.shift();
    });
    for (const t of tables) {
      child.stdin.write(`${JSON.stringify({ cmd: "table", ...t })}\n`);
    }
    child.stdin.write(
      `${JSON.stringify({ cmd: "start", fromSegment: from?.segmentId ?? 0, pollMs: this.options.pollMs ?? 200 })}\n`,
    );
    const lines = createInterface({ input: child.stdout });
    this.pauseReader = () => lines.pause();
    this.resumeReader = () => lines.resume();
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (e: Error): void => {
        if (failed) return;
        failed = true;
        reject(e);
        void this.stopChild();
      };
      lines.on("line", (text) => {
        let line: ReaderLine;
        try {
          line = JSON.parse(text) as ReaderLine;
        } catch {
          fail(
            new Error(
              `${this.name}: reader printed a non-JSON line: ${text.slice(0, 200)}`,
            ),
          );
          return;
        }
        const item = this.toItem(line, fail);
        if (item !== undefined) emit(item);
      });
      child.on("error", fail);
      child.on("exit", (code, signal) => {
        if (this.closed || this.child !== child) resolve();
        else {
          fail(
            new Error(
              `${this.name}: reader exited (${String(code ?? signal)}): ${this.stderrTail.join("\n").slice(-3000)}`,
            ),
          );
        }
      });
    });
  }

  private toItem(
    line: ReaderLine,
    fail: (e: Error) => void,
  ): FeedItem | undefined {
    const { segmentId = 0, offset = 0, index = 0 } = line;
    switch (line.type) {
      case "ready":
        this.cdcRaw = line.cdcRaw;
        if (this.pendingCommit !== undefined) {
          const p = this.pendingCommit;
          this.pendingCommit = undefined;
          this.commit(p).catch(fail);
        }
        return undefined;
      case "segment-end":
        return {
          kind: "segment-end",
          position: { segmentId, offset: SEGMENT_END_OFFSET, index: 0 },
        };
      case "change":
        return {
          kind: "change",
          keyspace: line.keyspace ?? "",
          table: line.table ?? "",
          key: line.key ?? {},
          op: line.op ?? "upsert",
          writetimeMicros: line.writetimeMicros ?? 0,
          position: { segmentId, offset, index },
        };
      case "error":
        fail(
          new Error(
            `${this.name}: cannot read segment ${String(segmentId)}: ${line.message ?? ""}`,
          ),
        );
        return undefined;
      default:
        return undefined;
    }
  }

  private stopping: Promise<void> = Promise.resolve();

  private stopChild(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return this.stopping;
    this.stopping = new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin.end(); // the reader exits on end of stdin
    });
    return this.stopping;
  }
}

/**
 * Builds the Cassandra CDC feed. See {@link CassandraChangeFeed}.
 *
 * @example
 * const feed = cassandraChangeFeed({ tables: ["reviews.reviews"], contactPoints: ["127.0.0.1:9042"] });
 */
export function cassandraChangeFeed(
  options: CassandraChangeFeedOptions,
): CassandraChangeFeed {
  return new CassandraChangeFeed(options);
}

import { describe, expect, it } from "vitest";
import { SluiceError } from "../../operators/sluice-error.js";
import { cqlFile, quoteCqlIdent, replicationCql } from "./cql.js";
import {
  resolveCassandraOptions,
  resolveCassandraSinkOptions,
  ttlSeconds,
} from "./options.js";
import type { CassandraOptions } from "./options.js";

const base: CassandraOptions = {
  contactPoints: ["127.0.0.1:9042"],
  localDataCenter: "datacenter1",
  keyspace: "sluice",
};
const caught = (f: () => unknown): SluiceError => {
  try {
    f();
  } catch (e) {
    if (e instanceof SluiceError) return e;
    throw e;
  }
  throw new Error("did not throw");
};

describe("resolveCassandraOptions", () => {
  it("applies the defaults", () => {
    expect(resolveCassandraOptions(base)).toMatchObject({
      replication: { class: "SimpleStrategy", replicationFactor: 1 },
      requestTimeoutMs: 12_000,
    });
  });
  it("names a bad keyspace", () => {
    const e = caught(() =>
      resolveCassandraOptions({ ...base, keyspace: "ks; DROP" }),
    );
    expect(e.message).toMatch(/^cassandra\.keyspace: /);
    expect(e.context.field).toBe("keyspace");
  });
  it("names a bad replication factor", () => {
    const e = caught(() =>
      resolveCassandraOptions({
        ...base,
        replication: { class: "SimpleStrategy", replicationFactor: 0 },
      }),
    );
    expect(e.message).toMatch(/^cassandra\.replication\.replicationFactor: /);
  });
  it("never prints the password", () => {
    const e = caught(() =>
      resolveCassandraOptions({ ...base, password: "hunter2-secret" }),
    );
    expect(e.message).toBe(
      "cassandra.password: username and password go together",
    );
  });
});

describe("resolveCassandraSinkOptions", () => {
  const toRow = () => ({});
  it("defaults the keyspace, name and TTL", () => {
    const o = resolveCassandraSinkOptions(
      { table: "t", columns: ["id"], toRow },
      "ks",
    );
    expect(o.name).toBe("cassandra:ks.t");
    expect(o.ttlOf({ key: "k", value: 1 })).toBe(0);
    expect(o.concurrency).toBe(32);
  });
  it("names a repeated column", () => {
    expect(
      caught(() =>
        resolveCassandraSinkOptions(
          { table: "t", columns: ["a", "a"], toRow },
          "ks",
        ),
      ).context.field,
    ).toBe("columns");
  });
  it("names a negative TTL", () => {
    expect(
      caught(() =>
        resolveCassandraSinkOptions(
          { table: "t", columns: ["a"], toRow, ttlMs: -1 },
          "ks",
        ),
      ).message,
    ).toMatch(/^cassandra\.sink\.ttlMs: /);
  });
});

describe("CQL text", () => {
  it("rounds TTLs up to whole seconds", () => {
    expect(ttlSeconds(0)).toBe(0);
    expect(ttlSeconds(1)).toBe(1);
    expect(ttlSeconds(1_500)).toBe(2);
    expect(() => ttlSeconds(-5)).toThrow(SluiceError);
  });
  it("quotes only plain identifiers", () => {
    expect(quoteCqlIdent("reviews")).toBe('"reviews"');
    expect(() => quoteCqlIdent('x" ; DROP')).toThrow(
      /not a valid CQL identifier/,
    );
  });
  it("builds replication maps", () => {
    expect(
      replicationCql({
        class: "NetworkTopologyStrategy",
        datacenters: { dc1: 3, dc2: 2 },
      }),
    ).toBe("{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}");
  });
  it("puts the keyspace from config into schema files", () => {
    const text = cqlFile("create-keyspace", {
      keyspace: "jobs",
      replication: { class: "SimpleStrategy", replicationFactor: 1 },
    });
    expect(text).toBe(
      `CREATE KEYSPACE IF NOT EXISTS "jobs"\n  WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    expect(cqlFile("claim-dedupe", { keyspace: "jobs" })).toContain(
      'INSERT INTO "jobs".dedupe',
    );
  });
  it("refuses a file whose placeholder was not given", () => {
    expect(() => cqlFile("create-keyspace", { keyspace: "jobs" })).toThrow(
      "unknown placeholder ${replication}",
    );
  });
});

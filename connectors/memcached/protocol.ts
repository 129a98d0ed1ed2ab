import memjs from "memjs";
import { toMemcachedError } from "./classify.js";

/** Binary-protocol opcodes used here. */
const OP = { get: 0x00, set: 0x01, add: 0x02, delete: 0x04 } as const;
const OK = 0x00;
const NOT_FOUND = 0x01;
const EXISTS = 0x02;
const NOT_STORED = 0x05;
/** Above this many seconds memcached reads an expiration as a Unix time. */
const RELATIVE_LIMIT_S = 30 * 24 * 3600;

/** A value read with its CAS token. */
export interface Versioned {
  readonly value: string;
  readonly cas: Buffer;
}

const silent = { log: () => undefined };

/**
 * The few binary-protocol calls the dedupe store needs, on one memjs client, with the CAS
 * token memjs's own methods do not expose (its `delete` cannot take one). Built on memjs's
 * public `perform` and `Utils.makeRequestBuffer`.
 */
export class MemcachedConnection {
  readonly address: string;
  private readonly client: memjs.Client;

  constructor(
    servers: readonly string[],
    o: {
      readonly timeoutMs: number;
      readonly connectTimeoutMs: number;
      readonly username: string | undefined;
      readonly password: string | undefined;
    },
  ) {
    this.address = servers.join(",");
    this.client = memjs.Client.create(this.address, {
      retries: 1,
      timeout: o.timeoutMs / 1000,
      conntimeout: o.connectTimeoutMs / 1000,
      keepAlive: true,
      logger: silent,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
    });
  }

  /** The value and CAS of `key`, or `undefined` when absent. */
  async get(key: string): Promise<Versioned | undefined> {
    const r = await this.call("get", OP.get, key, "", "");
    if (r.header.status === NOT_FOUND) return undefined;
    if (r.header.status !== OK) throw this.statusError("get", r.header.status);
    return { value: r.val.toString("utf8"), cas: Buffer.from(r.header.cas) };
  }

  /** Stores `value` if `key` is absent; false if it exists (atomic on the server). */
  async add(key: string, value: string, ttlMs: number): Promise<boolean> {
    const r = await this.call("add", OP.add, key, extras(ttlMs), value);
    if (r.header.status === EXISTS || r.header.status === NOT_STORED)
      return false;
    if (r.header.status !== OK) throw this.statusError("add", r.header.status);
    return true;
  }

  /** Stores `value` whatever was there. */
  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const r = await this.call("set", OP.set, key, extras(ttlMs), value);
    if (r.header.status !== OK) throw this.statusError("set", r.header.status);
  }

  /** Deletes `key` only if its CAS is still `cas`; false when it changed or is gone. */
  async deleteIf(key: string, cas: Buffer): Promise<boolean> {
    const r = await this.call("delete", OP.delete, key, "", "", cas);
    if (r.header.status === OK) return true;
    if (r.header.status === EXISTS || r.header.status === NOT_FOUND)
      return false;
    throw this.statusError("delete", r.header.status);
  }

  /** Closes the sockets; idempotent. */
  close(): void {
    this.client.close();
  }

  private statusError(what: string, status: number): Error {
    return toMemcachedError(
      { kind: "status", status },
      `memcached ${what} ${this.address}`,
    );
  }

  private call(
    what: string,
    opcode: number,
    key: string,
    extras: string | Buffer,
    value: string,
    cas?: Buffer,
  ): Promise<memjs.Response> {
    return new Promise((resolve, reject) => {
      this.client.incrSeq();
      const seq = this.client.seq;
      const request = memjs.Utils.makeRequestBuffer(
        opcode,
        key,
        extras,
        value,
        seq,
      );
      if (cas !== undefined) cas.copy(request, 16);
      this.client.perform(key, request, seq, (error, response) => {
        if (error !== null && error !== undefined)
          reject(
            toMemcachedError(
              { kind: "transport", error },
              `memcached ${what} ${this.address}`,
            ),
          );
        else resolve(response as memjs.Response);
      });
    });
  }
}

/** Flags (0) and expiration: whole seconds, rounded up, absolute past 30 days. */
function extras(ttlMs: number): Buffer {
  const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
  const expiration =
    seconds > RELATIVE_LIMIT_S
      ? Math.floor(Date.now() / 1000) + seconds
      : seconds;
  const b = Buffer.alloc(8);
  b.writeUInt32BE(0, 0);
  b.writeUInt32BE(expiration, 4);
  return b;
}

/**
 * A session store on Deno KV: a SQLite file locally, a managed replicated store on Deno Deploy.
 * Workers that share the database serve each other's sessions.
 *
 * @module
 */

import type { SessionRecord, SessionStore } from "./session_store.ts";

/**
 * The part of `Deno.Kv` the store uses. `Deno.openKv()` (with `--unstable-kv` outside Deno
 * Deploy) returns a value that fits; nothing here needs the unstable types.
 */
export interface KvLike {
  /** Reads the value at `key`; `value` is null when there is none. */
  get(key: readonly (string | number)[]): Promise<{ value: unknown }>;
  /** Writes `value` at `key`, optionally expiring after `expireIn` milliseconds. */
  set(
    key: readonly (string | number)[],
    value: unknown,
    options?: { expireIn?: number },
  ): Promise<unknown>;
  /** Removes `key`. */
  delete(key: readonly (string | number)[]): Promise<void>;
}

/** Options for {@linkcode KvSessionStore}. */
export interface KvSessionStoreOptions {
  /** Key prefix, so that several servers can share one database. @default {["asyncmcp", "sessions"]} */
  prefix?: readonly (string | number)[];
  /**
   * Records not written for this long disappear by themselves; keep it above the servers'
   * `idleTimeoutMs` (active sessions are rewritten every quarter of it). @default {86_400_000} (a day)
   */
  expireInMs?: number;
}

/**
 * Stores session records in Deno KV, so that every worker reading the same queue, on any machine
 * that opens the same database, can serve every session.
 *
 * @example Share sessions between workers through Deno KV
 * ```ts ignore
 * import { KvSessionStore } from "@asyncmcp/asyncmcp/session";
 *
 * const store = new KvSessionStore(await Deno.openKv());
 * // new SqsServer({ ..., store })
 * ```
 */
export class KvSessionStore implements SessionStore {
  #kv: KvLike;
  #prefix: readonly (string | number)[];
  #expireInMs: number;

  /** Uses `kv` (from `Deno.openKv()`). */
  constructor(kv: KvLike, options: KvSessionStoreOptions = {}) {
    this.#kv = kv;
    this.#prefix = options.prefix ?? ["asyncmcp", "sessions"];
    this.#expireInMs = options.expireInMs ?? 86_400_000;
    if (!(this.#expireInMs > 0)) {
      throw new RangeError(
        `Cannot create KV session store as 'expireInMs' must be positive: current value is ${this.#expireInMs}`,
      );
    }
  }

  /** Reads session `id`. */
  async get(id: string): Promise<SessionRecord | undefined> {
    const { value } = await this.#kv.get([...this.#prefix, id]);
    return (value ?? undefined) as SessionRecord | undefined;
  }

  /** Writes `record`, renewing its expiry. */
  async set(record: SessionRecord): Promise<void> {
    await this.#kv.set([...this.#prefix, record.id], record, { expireIn: this.#expireInMs });
  }

  /** Removes session `id`. */
  async delete(id: string): Promise<void> {
    await this.#kv.delete([...this.#prefix, id]);
  }
}

/**
 * Where sessions are remembered, so that any worker on the same queue can serve any session.
 *
 * @module
 */

import type { JSONRPCMessage } from "../sdk.ts";

/**
 * What a server needs to serve a session it did not create: kept small and JSON-serialisable so
 * that Deno KV, Redis or DynamoDB can hold it.
 */
export interface SessionRecord {
  /** The session id the server chose. */
  id: string;
  /** The client id the client sent with `initialize`, when it sent one. */
  clientId?: string;
  /** The authenticated principal that created the session, when the source authenticates. */
  principal?: string;
  /** Where every message of this session is sent (queue URL, topic ARN or webhook URL). */
  returnAddress: string;
  /**
   * The secret the client gave with its return address (`_meta.webhookSecret`), which signs what
   * is sent there. A store shared between workers holds it: protect the store accordingly.
   */
  returnSecret?: string;
  /** The protocol version negotiated in `initialize`. */
  protocolVersion?: string;
  /** The `initialize` request, replayed to a fresh server to rebuild the session elsewhere. */
  initialize: JSONRPCMessage;
  /** When the session was created, in epoch milliseconds. */
  createdAt: number;
  /** When the session last saw a message (written at most a few times per idle period). */
  lastActiveAt: number;
}

/**
 * Storage for {@linkcode SessionRecord}s. Implementations must be safe to share between
 * processes; last write wins.
 *
 * @example A store over any key-value map
 * ```ts
 * import type { SessionRecord, SessionStore } from "@asyncmcp/asyncmcp/session";
 *
 * class MapStore implements SessionStore {
 *   #map = new Map<string, SessionRecord>();
 *   get(id: string) { return Promise.resolve(this.#map.get(id)); }
 *   set(record: SessionRecord) { this.#map.set(record.id, record); return Promise.resolve(); }
 *   delete(id: string) { this.#map.delete(id); return Promise.resolve(); }
 * }
 * ```
 */
export interface SessionStore {
  /** The record of session `id`, or undefined when there is none. */
  get(id: string): Promise<SessionRecord | undefined>;
  /** Creates or replaces the record with the same id. */
  set(record: SessionRecord): Promise<void>;
  /** Removes the record; no error when there is none. */
  delete(id: string): Promise<void>;
}

/**
 * The default store: a map in this process. Share one instance between servers in the same
 * process to let them serve each other's sessions.
 *
 * @example
 * ```ts
 * import { MemorySessionStore } from "@asyncmcp/asyncmcp/session";
 *
 * const store = new MemorySessionStore();
 * await store.set({
 *   id: "s1",
 *   returnAddress: "https://sqs.us-east-1.amazonaws.com/123456789012/replies",
 *   initialize: { jsonrpc: "2.0", id: 0, method: "initialize", params: {} },
 *   createdAt: Date.now(),
 *   lastActiveAt: Date.now(),
 * });
 * console.log((await store.get("s1"))?.returnAddress);
 * ```
 */
export class MemorySessionStore implements SessionStore {
  #records = new Map<string, SessionRecord>();

  /** Reads a copy, so that callers cannot change the stored record by accident. */
  get(id: string): Promise<SessionRecord | undefined> {
    const record = this.#records.get(id);
    return Promise.resolve(record && { ...record });
  }

  /** Stores a copy of `record`. */
  set(record: SessionRecord): Promise<void> {
    this.#records.set(record.id, { ...record });
    return Promise.resolve();
  }

  /** Forgets session `id`. */
  delete(id: string): Promise<void> {
    this.#records.delete(id);
    return Promise.resolve();
  }

  /** How many sessions are stored. */
  get size(): number {
    return this.#records.size;
  }
}

/**
 * The open {@linkcode ClientConnection}s of a worker's 2026-07-28 clients: one per client (its id
 * and return address), opened on its first request, kept while requests keep coming, closed when
 * idle or when room is needed for another client. A client without an id cannot be told apart
 * from others: its connection serves one request.
 *
 * @module
 */

import type { McpServer as McpServerV2 } from "@modelcontextprotocol/server";
import type { JSONRPCMessage, RequestId } from "../sdk.ts";
import { ClientConnection } from "./client_connection.ts";
import { describeError, type Logger } from "./logger.ts";
import { promiseWithResolvers } from "./runtime.ts";
import { servesBothEras } from "./server_eras.ts";
import type { ConnectableServer } from "./session_registry.ts";

/** What {@linkcode ConnectionPool} needs from its owner. */
export interface ConnectionPoolOptions<R> {
  /** Builds the MCP server of one client's connection. */
  createServer: (context: { era: "modern" }) => ConnectableServer | Promise<ConnectableServer>;
  /** Sends what a connection's server sends; resolves once it is out. */
  out: (pin: Pin<R>, message: JSONRPCMessage, requestId: RequestId | undefined) => Promise<void>;
  /** Keeps work in the set that closing waits for. */
  track: <T>(work: Promise<T>) => Promise<T>;
  /** Where events are logged. */
  logger: Logger;
  /** Connections kept past their last request; the least recently used idle ones close first. */
  maxConnections: number;
}

/** A client's connection, open or opening, and the requests (`R`) it is serving. */
export interface Pin<R> {
  readonly key: string;
  /** Resolves once the server is built and connected; rejects when it cannot be. */
  readonly ready: Promise<ClientConnection>;
  connection?: ClientConnection;
  /** The client's requests in flight on the connection, by request key. */
  readonly requests: Map<string, R>;
  lastUsed: number;
  /** Whether it closes with its last request: a client without an id cannot be told apart. */
  readonly once: boolean;
  closing?: Promise<void>;
}

/** The factory built an SDK v1 server, which speaks 2025-11-25 only. */
export class LegacyOnlyServer extends Error {}

/** Opens, reuses and closes the connections of 2026-07-28 clients (see the module documentation). */
export class ConnectionPool<R> {
  readonly #options: ConnectionPoolOptions<R>;
  /** Connections by client, least recently used first. */
  readonly #pins = new Map<string, Pin<R>>();
  #unnamed = 0;
  /** False once `createServer` returned a server that only speaks 2025-11-25 (SDK v1). */
  #modern = true;

  /** Creates an empty pool. */
  constructor(options: ConnectionPoolOptions<R>) {
    this.#options = options;
  }

  /** The connections open or opening. */
  pins(): IterableIterator<Pin<R>> {
    return this.#pins.values();
  }

  /**
   * The connection of the client with `clientId` answered at `returnAddress` (a forged client
   * id with another address gets a server of its own), opened if there is none.
   */
  pinOf(clientId: string | undefined, returnAddress: string): Pin<R> {
    const key = clientId === undefined ? `\n${this.#unnamed++}` : `${clientId}\n${returnAddress}`;
    const known = this.#pins.get(key);
    if (known && !known.closing) {
      // Moved to the end: the map runs from least to most recently used.
      this.#pins.delete(key);
      this.#pins.set(key, known);
      known.lastUsed = Date.now();
      return known;
    }
    const ready = promiseWithResolvers<ClientConnection>();
    const pin: Pin<R> = {
      key,
      ready: ready.promise,
      requests: new Map(),
      lastUsed: Date.now(),
      once: clientId === undefined,
    };
    this.#evictIdle();
    this.#pins.set(key, pin);
    this.#open(pin).then(ready.resolve, (error) => {
      if (this.#pins.get(key) === pin) this.#pins.delete(key);
      ready.reject(error);
    });
    ready.promise.catch(() => {});
    return pin;
  }

  /** Notes that `pin` let go of a request; a one-request connection closes with it. */
  released(pin: Pin<R>): void {
    pin.lastUsed = Date.now();
    if (pin.once && pin.requests.size === 0) void this.close(pin);
  }

  /** Closes the connections without requests for `idleMs` or longer. */
  closeIdle(now: number, idleMs: number): void {
    for (const pin of this.#pins.values()) {
      if (pin.requests.size === 0 && now - pin.lastUsed >= idleMs) void this.close(pin);
    }
  }

  /** Closes `pin`'s connection (once opened); resolves when it is closed. */
  close(pin: Pin<R>): Promise<void> {
    if (this.#pins.get(pin.key) === pin) this.#pins.delete(pin.key);
    pin.closing ??= this.#options.track(
      pin.ready.then((connection) => connection.close(), () => {}).catch((error) =>
        this.#options.logger.log("warn", "stateless.close_failed", { error: describeError(error) })
      ),
    );
    return pin.closing;
  }

  /** Closes every connection. */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.#pins.values()].map((pin) => this.close(pin)));
  }

  async #open(pin: Pin<R>): Promise<ClientConnection> {
    if (!this.#modern) throw new LegacyOnlyServer();
    const server = await this.#options.createServer({ era: "modern" });
    if (!servesBothEras(server)) {
      // An SDK v1 server speaks 2025-11-25 only: the client falls back to initialize.
      this.#modern = false;
      await server.close().catch(() => {});
      throw new LegacyOnlyServer();
    }
    pin.connection = new ClientConnection({
      server: server as McpServerV2,
      out: (message, requestId) => this.#options.out(pin, message, requestId),
      onerror: (error) =>
        this.#options.logger.log("warn", "stateless.server_error", {
          connection: pin.key,
          error: describeError(error),
        }),
    });
    return pin.connection;
  }

  /** Makes room for one more connection: closes the least recently used idle ones. */
  #evictIdle(): void {
    let excess = this.#pins.size + 1 - this.#options.maxConnections;
    for (const pin of this.#pins.values()) {
      if (excess <= 0) return;
      if (pin.requests.size > 0) continue;
      void this.close(pin);
      excess--;
    }
  }
}

/**
 * The sessions a server process holds: opened on `initialize`, rebuilt from the store when
 * another worker opened them, ended when idle, closed or asked to.
 *
 * @module
 */

import type { JSONRPCMessage, Transport, TransportSendOptions } from "../sdk.ts";
import { isResponse } from "./envelope.ts";
import type { Logger } from "./logger.ts";
import { requestKey, RequestLedger } from "./request_ledger.ts";
import type { Conversation } from "./return_path.ts";
import type { SessionRecord, SessionStore } from "./session_store.ts";
import { SessionTransport } from "./session_transport.ts";

/** What `createServer` must return: an SDK `McpServer` or `Server`, or anything with their `connect`/`close`. */
export interface ConnectableServer {
  /** Attaches the server to a transport and starts it. */
  connect(transport: Transport): Promise<void>;
  /** Stops the server and closes its transport. */
  close(): Promise<void>;
}

/** One session held in this process: a {@linkcode Conversation} with its own MCP server. */
export interface HostedSession extends Conversation {
  /** What is stored about it. */
  readonly record: SessionRecord;
  /** The transport its MCP server talks through. */
  readonly transport: SessionTransport;
  /** Its MCP server. */
  readonly server: ConnectableServer;
  /** When it last saw a message, in epoch milliseconds. */
  lastActive: number;
}

/** Options for {@linkcode SessionRegistry}. */
export interface SessionRegistryOptions {
  /** Builds a fresh MCP server for a session. */
  createServer: () => ConnectableServer | Promise<ConnectableServer>;
  /** Where sessions are remembered across workers. */
  store: SessionStore;
  /** A session with no message for this long is ended, in ms. */
  idleTimeoutMs: number;
  /** Sends what a session's server sends. */
  send: (
    session: HostedSession,
    message: JSONRPCMessage,
    options?: TransportSendOptions,
  ) => Promise<void>;
  /** Told of every request a session ledger takes (+1) or lets go (-1). */
  countRequests: (delta: number) => void;
  /** Called when a session's MCP server closed by itself, after the registry forgot it. */
  onServerClosed: (session: HostedSession) => void;
  /** Told of store failures that nobody waits for. */
  onStoreFailure: (sessionId: string, error: unknown) => void;
  /** Where events are logged. */
  logger: Logger;
}

/** How long rebuilding a session may wait for its replayed `initialize` to be answered, in ms. */
const REPLAY_TIMEOUT_MS = 10_000;
/** How many broker message ids of recent `initialize` messages are remembered. */
const RECENT_INITIALIZES = 4096;

/**
 * The sessions of one {@linkcode SessionHost}, in memory and in the store.
 */
export class SessionRegistry {
  readonly #options: SessionRegistryOptions;
  readonly #sessions = new Map<string, HostedSession>();
  /** Sessions being rebuilt from the store, by id. */
  readonly #loading = new Map<string, Promise<HostedSession | undefined>>();
  /** Broker message ids of recent `initialize` messages → the id of the session each created. */
  readonly #recentInitializes = new Map<string, Promise<string | undefined>>();
  /** Replayed `initialize` requests (rebuilding a session here) waiting for their answer. */
  readonly #replays = new Map<HostedSession, { key: string; done: () => void }>();
  /** Sessions being opened; counted against the session limit. */
  #opening = 0;
  #closed = false;

  /** Creates an empty registry. */
  constructor(options: SessionRegistryOptions) {
    this.#options = options;
  }

  /** Sessions held, plus those being opened. */
  get count(): number {
    return this.#sessions.size + this.#opening;
  }

  /** Sessions held. */
  get size(): number {
    return this.#sessions.size;
  }

  /** The session with this id, when this process holds it. */
  get(sessionId: string): HostedSession | undefined {
    return this.#sessions.get(sessionId);
  }

  /** Every session held. */
  all(): HostedSession[] {
    return [...this.#sessions.values()];
  }

  /** The session an earlier delivery of the broker message `messageId` created, if any. */
  createdBy(messageId: string): Promise<string | undefined> | undefined {
    return this.#recentInitializes.get(messageId);
  }

  /**
   * Opens a new session for `record`, remembering that broker message `messageId` created it;
   * undefined when the registry closed meanwhile.
   */
  create(record: SessionRecord, messageId: string): Promise<HostedSession | undefined> {
    this.#opening++;
    const opening = this.#open(record).finally(() => this.#opening--);
    this.#recentInitializes.set(
      messageId,
      opening.then((session) => session?.record.id, () => undefined),
    );
    if (this.#recentInitializes.size > RECENT_INITIALIZES) {
      this.#recentInitializes.delete(this.#recentInitializes.keys().next().value!);
    }
    return opening;
  }

  /** Finds a session that this process does not hold in the store and rebuilds it here. */
  load(sessionId: string): Promise<HostedSession | undefined> {
    let loading = this.#loading.get(sessionId);
    if (!loading) {
      loading = this.#rebuild(sessionId).finally(() => this.#loading.delete(sessionId));
      this.#loading.set(sessionId, loading);
    }
    return loading;
  }

  /** Every rebuild under way, for a host that waits for them before closing. */
  loading(): Promise<unknown>[] {
    return [...this.#loading.values()];
  }

  /** Records activity; written to the store a few times per idle period. */
  touch(session: HostedSession): void {
    const now = Date.now();
    session.lastActive = now;
    if (now - session.record.lastActiveAt > this.#options.idleTimeoutMs / 4) {
      session.record.lastActiveAt = now;
      this.#options.store.set(session.record).catch((error) =>
        this.#options.onStoreFailure(session.record.id, error)
      );
    }
  }

  /**
   * Ends the session here and in the store (a DELETE, or a return address that is gone). Resolves
   * false when there is no such session.
   */
  async end(sessionId: string, allowed: (record: SessionRecord) => boolean): Promise<boolean> {
    const session = this.#sessions.get(sessionId);
    const record = session?.record ?? await this.#options.store.get(sessionId);
    if (!record || !allowed(record)) return false;
    if (session && this.#sessions.get(sessionId) === session) this.#sessions.delete(sessionId);
    await this.#options.store.delete(sessionId);
    if (session) await closeSession(session);
    this.#options.logger.log("info", "session.ended", { sessionId, clientId: record.clientId });
    return true;
  }

  /** Ends sessions idle for longer than the timeout and not running any request. */
  sweepIdle(): void {
    const cutoff = Date.now() - this.#options.idleTimeoutMs;
    for (const session of [...this.#sessions.values()]) {
      if (session.lastActive >= cutoff || session.requests.size > 0) continue;
      const { id } = session.record;
      this.#sessions.delete(id);
      this.#options.logger.log("info", "session.idle_ended", { sessionId: id });
      closeSession(session).then(async () => {
        // Another worker may have kept the session busy: only forget it when the store agrees.
        const stored = await this.#options.store.get(id);
        if (stored && stored.lastActiveAt < cutoff) await this.#options.store.delete(id);
      }).catch((error) => this.#options.onStoreFailure(id, error));
    }
  }

  /** Closes every session's server (the store keeps them for other workers). */
  async close(): Promise<void> {
    this.#closed = true;
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled(sessions.map(closeSession));
  }

  async #rebuild(sessionId: string): Promise<HostedSession | undefined> {
    const { store, idleTimeoutMs, logger } = this.#options;
    const record = await store.get(sessionId);
    if (!record || this.#closed) return undefined;
    if (record.lastActiveAt + idleTimeoutMs < Date.now()) {
      await store.delete(sessionId);
      return undefined;
    }
    const session = await this.#open(record);
    if (!session) return undefined;
    // Replaying the stored initialize brings a fresh server to the state the client knows; its
    // answer is for nobody and is dropped in #send.
    const replayId = `asyncmcp-replay-${crypto.randomUUID()}`;
    const replayed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Cannot rebuild session ${sessionId}: initialize replay timed out`)),
        REPLAY_TIMEOUT_MS,
      );
      this.#replays.set(session, {
        key: requestKey(replayId),
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
    session.transport.receive({ ...record.initialize, id: replayId } as JSONRPCMessage);
    try {
      await replayed;
    } catch (error) {
      this.#sessions.delete(sessionId);
      await closeSession(session);
      throw error;
    } finally {
      this.#replays.delete(session);
    }
    session.transport.receive({ jsonrpc: "2.0", method: "notifications/initialized" });
    logger.log("info", "session.rebuilt", { sessionId });
    return session;
  }

  /** Builds and connects a server for `record`; undefined when the registry closed meanwhile. */
  async #open(record: SessionRecord): Promise<HostedSession | undefined> {
    const transport = new SessionTransport(
      record.id,
      (message, options) => this.#send(session, message, options),
    );
    const server = await this.#options.createServer();
    const requests = new RequestLedger(this.#options.countRequests);
    const session: HostedSession = {
      record,
      transport,
      server,
      requests,
      keyOf: requestKey,
      ownKeys: () => requests.keys(),
      parkingKey: `session:${record.id}`,
      beforeInitializeAnswer: () => this.#options.store.set(record),
      lastActive: Date.now(),
    };
    await server.connect(transport);
    if (this.#closed) {
      await closeSession(session);
      return undefined;
    }
    const serverOnClose = transport.onclose;
    transport.onclose = () => {
      serverOnClose?.();
      if (this.#sessions.get(record.id) === session) {
        // The MCP server closed the session itself: no worker should serve it again.
        this.#sessions.delete(record.id);
        this.#options.store.delete(record.id).catch((error) =>
          this.#options.onStoreFailure(record.id, error)
        );
      }
      this.#options.onServerClosed(session);
    };
    this.#sessions.set(record.id, session);
    return session;
  }

  #send(
    session: HostedSession,
    message: JSONRPCMessage,
    options?: TransportSendOptions,
  ): Promise<void> {
    const replay = this.#replays.get(session);
    if (
      replay && isResponse(message) && requestKey((message as { id: string }).id) === replay.key
    ) {
      replay.done();
      return Promise.resolve();
    }
    return this.#options.send(session, message, options);
  }
}

async function closeSession(session: HostedSession): Promise<void> {
  try {
    await session.server.close();
  } finally {
    await session.transport.close();
  }
}

/**
 * The server side of every asyncmcp transport: messages from one inbox are served in either MCP
 * era, as 2025-11-25 sessions or as stateless 2026-07-28 requests, and answered at their return
 * address through one outbox.
 *
 * @module
 */

import type { ServerEvent, ServerEventBus } from "@modelcontextprotocol/server";
import type { AddressPolicy } from "./address_policy.ts";
import { DeliveryAnswers } from "./delivery_answers.ts";

import type { Inbox, InboxDelivery } from "./inbox.ts";
import { LegacySessions, type SessionEnder } from "./legacy_sessions.ts";
import { consoleLogger, describeError, type Logger } from "./logger.ts";
import type { Outbox } from "./outbox.ts";
import { errorResponse, JSONRPC_ERROR, modernRevisionOf } from "./envelope.ts";
import { ReturnPath } from "./return_path.ts";
import { unrefTimer } from "./runtime.ts";
import { type ListChange, StatelessRequests } from "./stateless_requests.ts";
import type { ReturnAddressKey } from "./return_address.ts";
import { type ConnectableServer, SessionRegistry } from "./session_registry.ts";
import { MemorySessionStore, type SessionStore } from "./session_store.ts";

export type { ConnectableServer } from "./session_registry.ts";
export type { SessionEnder } from "./legacy_sessions.ts";
export type { ListChange } from "./stateless_requests.ts";

/** Options shared by every server-side transport (`SqsServer`, `SnsSqsServer`, ...). */
export interface SessionOptions {
  /**
   * Builds a fresh MCP server for each session (and for each session rebuilt from the store),
   * and, when it returns an SDK v2 server, for each client of stateless 2026-07-28 requests
   * (kept for the client's later requests, see `statelessIdleMs`); `context.era` says which.
   */
  createServer: (context: ServerFactoryContext) => ConnectableServer | Promise<ConnectableServer>;
  /**
   * Where sessions are remembered. Share one store (for example on Deno KV or Redis) between
   * workers reading the same queue, and any worker serves any session.
   * @default {new MemorySessionStore()}
   */
  store?: SessionStore;
  /** A session with no message for this long is ended. @default {1_800_000} (30 minutes) */
  idleTimeoutMs?: number;
  /**
   * How long the server built for a client's stateless 2026-07-28 requests outlives its last
   * one: its next request within this time skips building a server. @default {60_000}
   */
  statelessIdleMs?: number;
  /**
   * A request the MCP server has not answered after this long is answered with error -32603 and
   * cancelled, so that nothing is held forever (a long job belongs in a task, which answers at
   * once). @default {1_800_000} (30 minutes)
   */
  requestTimeoutMs?: number;
  /** Most sessions this process holds at once; a further `initialize` is refused with an error. @default {1000} */
  maxSessions?: number;
  /**
   * Most requests of one session running or waiting for their answer to be delivered; a further
   * request is refused with error -32000 (503 over HTTP), so that a client cannot pile up work
   * behind a slow or dead return address. @default {256}
   */
  maxInFlightPerSession?: number;
  /**
   * How long `close()` lets running requests finish before it hands their messages back to the
   * broker for another worker. @default {500}
   */
  closeGraceMs?: number;
  /**
   * Chooses session ids. Must return at least 122 random bits in visible ASCII (0x21-0x7E), at
   * most 128 characters. @default 32 hex digits
   */
  newSessionId?: () => string;
  /**
   * Where the application announces that a list or a resource changed (the SDK v2's
   * `ServerEventBus`, which its `createMcpHandler` takes too). Each event goes to every open
   * 2026-07-28 `subscriptions/listen` of this process, whichever client's server holds it (as
   * {@linkcode SessionHost.notifyChanged} sends it): a tool of one client's server can announce a
   * change to all. Across processes, implement the interface over your own pub/sub.
   */
  bus?: ServerEventBus;
  /** Where events are logged. @default {consoleLogger()} (level `warn`) */
  logger?: Logger;
  /** Called with every out-of-band failure (broker errors, unroutable messages are only logged). */
  onerror?: (error: Error) => void;
}

/** Options for {@linkcode SessionHost}: the shared session options plus the transport's parts. */
export interface SessionHostOptions extends SessionOptions {
  /** Where client messages arrive. */
  inbox: Inbox;
  /** Where replies leave, addressed by the session's return address. */
  outbox: Outbox;
  /** Which `initialize` params carry the return address. */
  returnAddressKey: ReturnAddressKey;
  /** Which return addresses may be used. */
  addressPolicy: AddressPolicy;
}

/** What {@linkcode SessionHost.status} reports. */
export interface SessionHostStatus {
  /** Whether the host is started and not closed. */
  running: boolean;
  /** Sessions held in this process. */
  sessions: number;
  /** Requests being handled in this process. */
  inFlightRequests: number;
}

/** What `createServer` is told about the server it builds. */
export interface ServerFactoryContext {
  /**
   * `"legacy"` for a 2025-11-25 session, `"modern"` for one stateless 2026-07-28 request (only
   * SDK v2 servers serve those).
   */
  era: "legacy" | "modern";
}

const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;
const DEFAULT_STATELESS_IDLE_MS = 60_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30 * 60 * 1000;
const DEFAULT_MAX_SESSIONS = 1000;
const DEFAULT_MAX_IN_FLIGHT_PER_SESSION = 256;
const DEFAULT_CLOSE_GRACE_MS = 500;

/**
 * Creates a session id: a random UUID's 122 bits as 32 lowercase hex digits, like the Python peer.
 *
 * @example
 * ```ts
 * import { newHexSessionId } from "./session_host.ts";
 *
 * console.log(/^[0-9a-f]{32}$/.test(newHexSessionId())); // true
 * ```
 */
export function newHexSessionId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/**
 * Hosts MCP sessions behind any {@linkcode Inbox} and {@linkcode Outbox}. The transports of
 * asyncmcp are thin adapters around this class; use it directly to build another one.
 *
 * @example Host sessions from a custom inbox and outbox
 * ```ts ignore
 * import { McpServer } from "@asyncmcp/asyncmcp/sdk";
 * import { SessionHost } from "@asyncmcp/asyncmcp/session";
 *
 * const host = new SessionHost({
 *   inbox: myInbox,
 *   outbox: myOutbox,
 *   returnAddressKey: { meta: "replyTo" },
 *   addressPolicy: (address) => address.startsWith("https://replies.example.com/"),
 *   createServer: () => new McpServer({ name: "example", version: "1.0.0" }),
 * });
 * await host.start();
 * ```
 */
export class SessionHost {
  readonly #options: SessionHostOptions;
  readonly #logger: Logger;
  readonly #idleTimeoutMs: number;
  readonly #statelessIdleMs: number;
  readonly #requestTimeoutMs: number;
  readonly #closeGraceMs: number;
  readonly #sessions: SessionRegistry;
  readonly #returns: ReturnPath;
  readonly #answers: DeliveryAnswers;
  readonly #legacy: LegacySessions;
  readonly #stateless: StatelessRequests;
  /** Work that close() must wait for: sessions being opened, answers being sent. */
  readonly #pending = new Set<Promise<unknown>>();
  #inFlightCount = 0;
  #drained?: () => void;
  #started = false;
  #closed = false;
  #sweeper?: ReturnType<typeof setInterval>;
  /** Stops listening to the `bus`. */
  #unsubscribe?: () => void;

  /** Validates the options; nothing starts until {@linkcode SessionHost.start}. */
  constructor(options: SessionHostOptions) {
    this.#options = options;
    const logger = this.#logger = options.logger ?? consoleLogger();
    this.#idleTimeoutMs = positive("idleTimeoutMs", options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS);
    this.#statelessIdleMs = positive(
      "statelessIdleMs",
      options.statelessIdleMs,
      DEFAULT_STATELESS_IDLE_MS,
    );
    this.#requestTimeoutMs = positive(
      "requestTimeoutMs",
      options.requestTimeoutMs,
      DEFAULT_REQUEST_TIMEOUT_MS,
    );
    this.#closeGraceMs = nonNegative("closeGraceMs", options.closeGraceMs, DEFAULT_CLOSE_GRACE_MS);
    const track = <T>(work: Promise<T>) => this.#track(work);
    const onerror = (error: Error) => this.#options.onerror?.(error);
    this.#returns = new ReturnPath({
      outbox: options.outbox,
      redeliverable: () => !options.inbox.acksOnReceipt,
      end: (conversation) => {
        const sessionId = conversation.record.id;
        // A stateless request has no session to end; a later one names its address again.
        if (sessionId === "") return;
        this.#track(this.#sessions.end(sessionId, () => true)).catch((error) =>
          this.#reportStoreFailure(sessionId, error)
        );
      },
      track,
      onerror,
      logger,
    });
    this.#answers = new DeliveryAnswers({ returns: this.#returns, track, onerror, logger });
    this.#sessions = new SessionRegistry({
      createServer: () => options.createServer({ era: "legacy" }),
      store: options.store ?? new MemorySessionStore(),
      idleTimeoutMs: this.#idleTimeoutMs,
      logger,
      send: (session, message, sendOptions) => this.#returns.send(session, message, sendOptions),
      countRequests: (delta) => this.#count(delta),
      onServerClosed: (session) => {
        for (const key of session.requests.keys()) session.requests.release(key);
        this.#returns.forget(session);
      },
      onStoreFailure: (sessionId, error) => this.#reportStoreFailure(sessionId, error),
    });
    const maxInFlightPerSession = positive(
      "maxInFlightPerSession",
      options.maxInFlightPerSession,
      DEFAULT_MAX_IN_FLIGHT_PER_SESSION,
    );
    this.#stateless = new StatelessRequests({
      createServer: options.createServer,
      returns: this.#returns,
      answers: this.#answers,
      returnAddressKey: options.returnAddressKey,
      addressPolicy: options.addressPolicy,
      maxInFlightPerClient: maxInFlightPerSession,
      requestTimeoutMs: this.#requestTimeoutMs,
      idleMs: this.#statelessIdleMs,
      acksOnReceipt: () => options.inbox.acksOnReceipt,
      countRequests: (delta) => this.#count(delta),
      track,
      logger,
    });
    this.#legacy = new LegacySessions({
      sessions: this.#sessions,
      returns: this.#returns,
      answers: this.#answers,
      returnAddressKey: options.returnAddressKey,
      addressPolicy: options.addressPolicy,
      maxSessions: positive("maxSessions", options.maxSessions, DEFAULT_MAX_SESSIONS),
      maxInFlightPerSession,
      requestTimeoutMs: this.#requestTimeoutMs,
      newSessionId: options.newSessionId ?? newHexSessionId,
      acksOnReceipt: () => options.inbox.acksOnReceipt,
      closed: () => this.#closed,
      track,
      onerror,
      logger,
    });
  }

  /**
   * Tells every open 2026-07-28 `subscriptions/listen` of this process that a list (or a
   * resource) changed: `"tools"`, `"prompts"`, `"resources"` or `{ resource: uri }`.
   */
  notifyChanged(change: ListChange): void {
    this.#stateless.notifyChanged(change);
  }

  /** What the host holds right now. */
  get status(): SessionHostStatus {
    return {
      running: this.#started && !this.#closed,
      sessions: this.#sessions.size,
      inFlightRequests: this.#inFlightCount,
    };
  }

  /** Starts receiving. Throws when called twice or after close. */
  async start(): Promise<void> {
    if (this.#started || this.#closed) {
      throw new Error(
        `Cannot start session host as it is already ${this.#closed ? "closed" : "started"}: ` +
          "create a new one",
      );
    }
    this.#started = true;
    try {
      this.#unsubscribe = this.#options.bus?.subscribe((event) => {
        const change = listChangeOf(event);
        if (change) this.notifyChanged(change);
      });
      await this.#options.inbox.start((deliveries) => {
        for (const delivery of deliveries) this.#accept(delivery);
      });
      if (this.#closed) return;
      const sweepEveryMs = Math.min(
        Math.max(
          Math.min(this.#idleTimeoutMs, this.#requestTimeoutMs, this.#statelessIdleMs) / 4,
          10,
        ),
        60_000,
      );
      this.#sweeper = setInterval(() => this.#sweep(), sweepEveryMs);
      // Housekeeping alone must not keep a process alive: `deno serve` exits on SIGINT/SIGTERM
      // only once nothing else holds the event loop.
      unrefTimer(this.#sweeper);
    } catch (error) {
      // A failed start leaves nothing running: whatever the inbox started stops with it.
      await this.close().catch((closeError) =>
        this.#logger.log("warn", "host.close_failed", { error: describeError(closeError) })
      );
      throw error;
    }
  }

  /**
   * Stops receiving at once, lets running requests finish for `closeGraceMs`, hands the rest
   * back to the broker, ends every session and flushes what is still being sent. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#unsubscribe?.();
    const { inbox, outbox } = this.#options;
    await inbox.stop();
    await this.#settlePending();
    if (this.#inFlightCount > 0 && this.#closeGraceMs > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#drained = resolve),
        new Promise<void>((resolve) => timer = setTimeout(resolve, this.#closeGraceMs)),
      ]);
      clearTimeout(timer);
    }
    // From here on answers are dropped: what is unfinished goes back to the broker, and an answer
    // sent after that would make the client see two.
    this.#returns.answering = false;
    await this.#settlePending();
    await this.#returns.answerUnredeliverable([
      ...this.#sessions.all(),
      ...this.#stateless.conversations(),
    ]);
    await inbox.close();
    await this.#stateless.close();
    await this.#sessions.close();
    await outbox.close();
  }

  /**
   * Ends a session: closes its MCP server and forgets it here and in the store. With `from` (a
   * client's own request, such as an HTTP DELETE) a session bound to a principal or a client id
   * ends only for them. Resolves false when there is no such session, or it is not theirs.
   */
  endSession(sessionId: string, from?: SessionEnder): Promise<boolean> {
    return this.#legacy.end(sessionId, from);
  }

  #accept(delivery: InboxDelivery): void {
    const { incoming } = delivery;
    if (!incoming.ok) this.#legacy.answerInvalid(delivery, incoming.invalid);
    else if (modernRevisionOf(incoming.envelope.message) !== undefined) {
      this.#stateless.accept(delivery, incoming.envelope);
    } else this.#legacy.accept(delivery, incoming.envelope);
  }

  #count(delta: number): void {
    this.#inFlightCount += delta;
    if (this.#inFlightCount === 0) this.#drained?.();
  }

  /** Housekeeping: ends idle sessions and answers requests the MCP server has held too long. */
  #sweep(): void {
    this.#sessions.sweepIdle();
    const now = Date.now();
    this.#stateless.sweep(now);
    for (const session of this.#sessions.all()) {
      for (const key of session.requests.overdue(now)) {
        const { id } = session.requests.get(key)!;
        this.#logger.log("warn", "request.timed_out", {
          sessionId: session.record.id,
          requestId: id,
          timeoutMs: this.#requestTimeoutMs,
        });
        // The server's own answer, should it come, is then dropped as a second one.
        this.#returns.send(session, errorResponse(id, timedOut(this.#requestTimeoutMs)))
          .catch(() => {});
        session.transport.receive({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: id, reason: "timed out" },
        });
      }
    }
  }

  /** Keeps `work` in the set close() waits for until it settles. */
  #track<T>(work: Promise<T>): Promise<T> {
    this.#pending.add(work);
    const untrack = () => this.#pending.delete(work);
    work.then(untrack, untrack);
    return work;
  }

  async #settlePending(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #reportStoreFailure(sessionId: string, error: unknown): void {
    this.#logger.log("error", "store.failed", { sessionId, error: describeError(error) });
    this.#options.onerror?.(error instanceof Error ? error : new Error(String(error)));
  }
}

/** The answer to a request the MCP server held longer than `timeoutMs`. */
function timedOut(timeoutMs: number) {
  return {
    code: JSONRPC_ERROR.INTERNAL_ERROR,
    message: `Request timed out: the server did not answer within ${timeoutMs} ms; ` +
      "run long jobs as tasks",
  };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `Cannot create session host as '${name}' must be positive: current value is ${value}`,
    );
  }
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `Cannot create session host as '${name}' must not be negative: current value is ${value}`,
    );
  }
  return value;
}

/** The change a bus event announces. */
function listChangeOf(event: ServerEvent): ListChange | undefined {
  // A kind a later SDK adds is not ours to announce.
  switch (event.kind) {
    case "tools_list_changed":
      return "tools";
    case "prompts_list_changed":
      return "prompts";
    case "resources_list_changed":
      return "resources";
    case "resource_updated":
      return { resource: event.uri };
  }
}

/**
 * The server side of every asyncmcp transport: sessions created on `initialize`, routed by id,
 * answered at their return address, and ended on close or when idle.
 *
 * @module
 */

import {
  type JSONRPCMessage,
  type RequestId,
  SUPPORTED_PROTOCOL_VERSIONS,
  type Transport,
  type TransportSendOptions,
} from "../sdk.ts";
import type { AddressPolicy } from "./address_policy.ts";
import {
  type Envelope,
  errorResponse,
  type InvalidEnvelope,
  isResponse,
  JSONRPC_ERROR,
  type JsonRpcErrorObject,
  methodOf,
  requestIdOf,
} from "./envelope.ts";
import { BrokerError, MessageTooLargeError, TransportClosedError } from "./errors.ts";
import type { Inbox, InboxDelivery } from "./inbox.ts";
import { consoleLogger, describeError, type Logger } from "./logger.ts";
import type { Outbox } from "./outbox.ts";
import { readReturnAddress, type ReturnAddressKey, takeReturnSecret } from "./return_address.ts";
import { MemorySessionStore, type SessionRecord, type SessionStore } from "./session_store.ts";
import { SessionTransport } from "./session_transport.ts";

/** What `createServer` must return: an SDK `McpServer` or `Server`, or anything with their `connect`/`close`. */
export interface ConnectableServer {
  /** Attaches the server to a transport and starts it. */
  connect(transport: Transport): Promise<void>;
  /** Stops the server and closes its transport. */
  close(): Promise<void>;
}

/** Options shared by every server-side transport (`SqsServer`, `SnsSqsServer`, ...). */
export interface SessionOptions {
  /** Builds a fresh MCP server for each session (and for each session rebuilt from the store). */
  createServer: () => ConnectableServer | Promise<ConnectableServer>;
  /**
   * Where sessions are remembered. Share one store (for example on Deno KV or Redis) between
   * workers reading the same queue, and any worker serves any session.
   * @default {new MemorySessionStore()}
   */
  store?: SessionStore;
  /** A session with no message for this long is ended. @default {1_800_000} (30 minutes) */
  idleTimeoutMs?: number;
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
  /** Chooses session ids. Must return at least 122 random bits in visible ASCII. @default 32 hex digits */
  newSessionId?: () => string;
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

const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;
const DEFAULT_MAX_SESSIONS = 1000;
const DEFAULT_MAX_IN_FLIGHT_PER_SESSION = 256;
const DEFAULT_CLOSE_GRACE_MS = 500;
const RECENT_ANSWERS_PER_SESSION = 512;
const RECENT_INITIALIZES = 4096;
const REPLAY_TIMEOUT_MS = 10_000;
/** Sends of one answer before the request is handed back to the broker. */
const SEND_ATTEMPTS = 3;
/** Longest wait before a request whose answer could not be sent is offered again, in seconds. */
const MAX_RELEASE_DELAY_SECONDS = 60;

/**
 * Creates a session id: a random UUID's 122 bits as 32 lowercase hex digits, like the Python peer.
 *
 * @example
 * ```ts
 * import { newHexSessionId } from "@asyncmcp/asyncmcp/session";
 *
 * console.log(/^[0-9a-f]{32}$/.test(newHexSessionId())); // true
 * ```
 */
export function newHexSessionId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

interface InFlightRequest {
  /** The request's JSON-RPC id. */
  id: RequestId;
  /** The deliveries that carried it (a redelivery adds one); settled once it is answered. */
  deliveries: InboxDelivery[];
}

interface HostedSession {
  record: SessionRecord;
  transport: SessionTransport;
  server: ConnectableServer;
  /** Requests being handled, by request key. */
  inFlight: Map<string, InFlightRequest>;
  /** Keys of requests already answered, oldest first. */
  answered: Set<string>;
  lastActive: number;
  /** The request key of the `initialize` this session still has to answer, if any. */
  pendingInitializeKey?: string;
  /** Completes when a replayed `initialize` (rebuilding the session here) has been answered. */
  replay?: { key: string; done: () => void };
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
  #options: SessionHostOptions;
  #store: SessionStore;
  #logger: Logger;
  #idleTimeoutMs: number;
  #maxSessions: number;
  #maxInFlightPerSession: number;
  #closeGraceMs: number;
  #newSessionId: () => string;
  #sessions = new Map<string, HostedSession>();
  /** Sessions being rebuilt from the store, by id. */
  #loading = new Map<string, Promise<HostedSession | undefined>>();
  /** Broker message ids of recent `initialize` messages → the id of the session each created. */
  #recentInitializes = new Map<string, Promise<string | undefined>>();
  /** Sessions being created; counted against `maxSessions`. */
  #creating = 0;
  /** Work that close() must wait for: sessions being opened, answers being sent. */
  #pending = new Set<Promise<unknown>>();
  #inFlightCount = 0;
  #drained?: () => void;
  #started = false;
  #closed = false;
  /** False once closing has handed unfinished work back: late answers are then dropped. */
  #answering = true;
  #sweeper?: ReturnType<typeof setInterval>;

  /** Validates the options; nothing starts until {@linkcode SessionHost.start}. */
  constructor(options: SessionHostOptions) {
    this.#options = options;
    this.#store = options.store ?? new MemorySessionStore();
    this.#logger = options.logger ?? consoleLogger();
    this.#idleTimeoutMs = positive("idleTimeoutMs", options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS);
    this.#maxSessions = positive("maxSessions", options.maxSessions, DEFAULT_MAX_SESSIONS);
    this.#maxInFlightPerSession = positive(
      "maxInFlightPerSession",
      options.maxInFlightPerSession,
      DEFAULT_MAX_IN_FLIGHT_PER_SESSION,
    );
    this.#closeGraceMs = nonNegative("closeGraceMs", options.closeGraceMs, DEFAULT_CLOSE_GRACE_MS);
    this.#newSessionId = options.newSessionId ?? newHexSessionId;
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
    await this.#options.inbox.start((deliveries) => {
      for (const delivery of deliveries) this.#accept(delivery);
    });
    if (this.#closed) return;
    const sweepEveryMs = Math.min(Math.max(this.#idleTimeoutMs / 4, 10), 60_000);
    this.#sweeper = setInterval(() => this.#sweepIdle(), sweepEveryMs);
    // Housekeeping alone must not keep a process alive: `deno serve` exits on SIGINT/SIGTERM
    // only once nothing else holds the event loop.
    Deno.unrefTimer(this.#sweeper);
  }

  /**
   * Stops receiving at once, lets running requests finish for `closeGraceMs`, hands the rest
   * back to the broker, ends every session and flushes what is still being sent. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
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
    this.#answering = false;
    await this.#settlePending();
    const sessions = [...this.#sessions.values()];
    await this.#answerUnredeliverable(sessions);
    await inbox.close();
    this.#sessions.clear();
    await Promise.allSettled(sessions.map((session) => this.#closeSession(session)));
    await outbox.close();
  }

  /**
   * Ends a session at its client's request (an HTTP DELETE): closes its MCP server and forgets it
   * here and in the store. Resolves false when there is no such session, or when `clientId` is
   * given and is not the session's client.
   */
  async endSession(sessionId: string, clientId?: string): Promise<boolean> {
    const session = this.#sessions.get(sessionId);
    const record = session?.record ?? await this.#store.get(sessionId);
    if (!record) return false;
    if (clientId && record.clientId && clientId !== record.clientId) return false;
    if (session && this.#sessions.get(sessionId) === session) this.#sessions.delete(sessionId);
    await this.#store.delete(sessionId);
    if (session) await this.#closeSession(session);
    this.#logger.log("info", "session.ended", { sessionId, clientId: record.clientId });
    return true;
  }

  #accept(delivery: InboxDelivery): void {
    const { incoming } = delivery;
    if (!incoming.ok) {
      this.#answerInvalid(delivery, incoming.invalid);
      return;
    }
    const { envelope } = incoming;
    if (methodOf(envelope.message) === "initialize") {
      this.#track(this.#initialize(delivery, envelope)).catch((error) =>
        this.#fail(delivery, error)
      );
      return;
    }
    if (envelope.sessionId === undefined) {
      this.#refuse(
        delivery,
        "message has no session id (the X-Session-ID header, or the SessionId attribute on a queue) " +
          "and is not an initialize request",
      );
      return;
    }
    const live = this.#sessions.get(envelope.sessionId);
    if (live) {
      this.#route(live, delivery, envelope);
      return;
    }
    this.#load(envelope.sessionId).then((session) => {
      if (session) this.#route(session, delivery, envelope);
      else if (this.#closed) delivery.release();
      else this.#refuse(delivery, "unknown or expired session", {}, SESSION_NOT_FOUND);
    }).catch((error) => this.#fail(delivery, error));
  }

  #route(session: HostedSession, delivery: InboxDelivery, envelope: Envelope): void {
    const { record } = session;
    if (envelope.clientId && record.clientId && envelope.clientId !== record.clientId) {
      // Answering would tell the session's real client about a request it never sent.
      this.#refuse(delivery, "client id does not match the session's client");
      return;
    }
    const { message } = envelope;
    const id = requestIdOf(message);
    if (
      envelope.protocolVersion !== undefined &&
      !SUPPORTED_PROTOCOL_VERSIONS.includes(envelope.protocolVersion)
    ) {
      if (id === undefined) {
        this.#refuse(delivery, `unsupported protocol version ${envelope.protocolVersion}`);
        return;
      }
      this.#sendError(session.record, id, {
        code: JSONRPC_ERROR.INVALID_REQUEST,
        message: `Unsupported protocol version ${envelope.protocolVersion}: ` +
          `use one of ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}`,
      }, delivery);
      return;
    }
    this.#touch(session);
    if (id !== undefined) {
      const key = requestKey(id);
      if (session.answered.has(key)) {
        this.#log("debug", "request.duplicate_answered", delivery, envelope);
        delivery.ack();
        return;
      }
      const pending = session.inFlight.get(key);
      if (pending) {
        this.#log("debug", "request.duplicate_in_flight", delivery, envelope);
        if (this.#options.inbox.acksOnReceipt) delivery.ack(record.id);
        else pending.deliveries.push(delivery);
        return;
      }
      if (session.inFlight.size >= this.#maxInFlightPerSession) {
        this.#sendError(session.record, id, {
          code: JSONRPC_ERROR.SERVER_BUSY,
          message: `Server busy: this session has ${this.#maxInFlightPerSession} requests ` +
            "unanswered or undelivered; wait for their answers, then send it again",
        }, delivery);
        return;
      }
      const request: InFlightRequest = { id, deliveries: [delivery] };
      if (this.#options.inbox.acksOnReceipt) {
        // A FIFO queue withholds the session's next messages (cancellations, answers to the
        // server's own requests) until this one is deleted, and an HTTP sender waits for its
        // acknowledgement: settle now or the session stalls.
        delivery.ack(record.id);
        request.deliveries = [];
      }
      session.inFlight.set(key, request);
      this.#inFlightCount++;
      if (!session.transport.receive(message)) this.#releaseRequest(session, key);
      return;
    }
    session.transport.receive(message);
    delivery.ack(record.id);
    if (methodOf(message) === "notifications/cancelled") {
      // A cancelled request is never answered (MCP spec), so its message is settled here or it
      // would come back after close and run again.
      const cancelled = (message as { params?: { requestId?: unknown } }).params?.requestId;
      if (typeof cancelled === "string" || typeof cancelled === "number") {
        this.#settleRequest(session, requestKey(cancelled));
      }
    }
  }

  async #initialize(delivery: InboxDelivery, envelope: Envelope): Promise<void> {
    const { message } = envelope;
    const id = requestIdOf(message);
    if (id === undefined) {
      this.#refuse(delivery, "initialize must be a request with an id");
      return;
    }
    const earlier = this.#recentInitializes.get(delivery.messageId);
    if (earlier) {
      // The broker delivered this initialize again: it joins the session it created.
      const sessionId = await earlier;
      const session = sessionId === undefined ? undefined : this.#sessions.get(sessionId);
      if (session) this.#route(session, delivery, { ...envelope, sessionId });
      else delivery.ack();
      return;
    }
    const returnAddress = readReturnAddress(message, this.#options.returnAddressKey);
    // The secret is for signing what the session sends; the MCP server never sees it.
    const { message: initialize, secret: returnSecret } = takeReturnSecret(
      message,
      this.#options.returnAddressKey,
    );
    if (returnAddress === undefined) {
      this.#refuse(
        delivery,
        `initialize has no return address in params._meta.${this.#options.returnAddressKey.meta}`,
      );
      return;
    }
    const verdict = await this.#options.addressPolicy(returnAddress);
    if (verdict !== true) {
      // Sending even an error there is what the policy forbids.
      const why = typeof verdict === "string"
        ? verdict
        : `Cannot use return address ${returnAddress} as this server's address policy refuses it`;
      this.#refuse(delivery, "return address refused by the address policy", {
        returnAddress,
        why: typeof verdict === "string" ? verdict : undefined,
      }, {
        code: JSONRPC_ERROR.INVALID_PARAMS,
        message: `${why}: use an address this server may reach, or ask its operator to allow it`,
      });
      return;
    }
    const replyTo = { id: "", clientId: envelope.clientId, returnAddress, returnSecret };
    if (this.#sessions.size + this.#creating >= this.#maxSessions) {
      this.#sendError(replyTo, id, {
        code: JSONRPC_ERROR.SERVER_BUSY,
        message:
          `Cannot create session as this server holds its limit of ${this.#maxSessions} sessions: ` +
          "try again later or close unused sessions",
      }, delivery);
      return;
    }
    const now = Date.now();
    // A session id the client proposes is never adopted (session fixation).
    const record: SessionRecord = {
      ...replyTo,
      id: this.#newSessionId(),
      initialize,
      createdAt: now,
      lastActiveAt: now,
    };
    this.#creating++;
    const opening = this.#open(record).finally(() => this.#creating--);
    this.#remember(
      delivery.messageId,
      opening.then((session) => session?.record.id, () => undefined),
    );
    let session: HostedSession | undefined;
    try {
      session = await opening;
    } catch (error) {
      this.#sendError(replyTo, id, {
        code: JSONRPC_ERROR.INTERNAL_ERROR,
        message: `Cannot create session as the server failed to start: ${describeError(error)}`,
      }, delivery);
      this.#options.onerror?.(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (!session) {
      delivery.release();
      return;
    }
    session.pendingInitializeKey = requestKey(id);
    this.#log("info", "session.created", delivery, { ...envelope, sessionId: record.id });
    this.#route(session, delivery, { ...envelope, message: initialize, sessionId: record.id });
  }

  /** Finds a session that this process does not hold in the store and rebuilds it here. */
  #load(sessionId: string): Promise<HostedSession | undefined> {
    let loading = this.#loading.get(sessionId);
    if (!loading) {
      loading = this.#track(this.#rebuild(sessionId)).finally(() =>
        this.#loading.delete(sessionId)
      );
      this.#loading.set(sessionId, loading);
    }
    return loading;
  }

  async #rebuild(sessionId: string): Promise<HostedSession | undefined> {
    const record = await this.#store.get(sessionId);
    if (!record || this.#closed) return undefined;
    if (record.lastActiveAt + this.#idleTimeoutMs < Date.now()) {
      await this.#store.delete(sessionId);
      return undefined;
    }
    const session = await this.#open(record);
    if (!session) return undefined;
    // Replaying the stored initialize brings a fresh server to the state the client knows; its
    // answer is for nobody and is dropped in #sendFromSession.
    const replayId = `asyncmcp-replay-${crypto.randomUUID()}`;
    const key = requestKey(replayId);
    const replayed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Cannot rebuild session ${sessionId}: initialize replay timed out`)),
        REPLAY_TIMEOUT_MS,
      );
      session.replay = {
        key,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
    session.transport.receive({ ...record.initialize, id: replayId } as JSONRPCMessage);
    try {
      await replayed;
    } catch (error) {
      this.#sessions.delete(sessionId);
      await this.#closeSession(session);
      throw error;
    }
    session.replay = undefined;
    session.transport.receive({ jsonrpc: "2.0", method: "notifications/initialized" });
    this.#logger.log("info", "session.rebuilt", { sessionId });
    return session;
  }

  /** Builds and connects a server for `record`; undefined when the host closed meanwhile. */
  async #open(record: SessionRecord): Promise<HostedSession | undefined> {
    const transport = new SessionTransport(
      record.id,
      (message, options) => this.#sendFromSession(session, message, options),
    );
    const server = await this.#options.createServer();
    const session: HostedSession = {
      record,
      transport,
      server,
      inFlight: new Map(),
      answered: new Set(),
      lastActive: Date.now(),
    };
    await server.connect(transport);
    if (this.#closed) {
      await this.#closeSession(session);
      return undefined;
    }
    const serverOnClose = transport.onclose;
    transport.onclose = () => {
      serverOnClose?.();
      for (const key of [...session.inFlight.keys()]) this.#releaseRequest(session, key);
      if (this.#sessions.get(record.id) === session) {
        // The MCP server closed the session itself: no worker should serve it again.
        this.#sessions.delete(record.id);
        this.#store.delete(record.id).catch((error) => this.#reportStoreFailure(record.id, error));
      }
    };
    this.#sessions.set(record.id, session);
    return session;
  }

  #sendFromSession(
    session: HostedSession,
    message: JSONRPCMessage,
    _options?: TransportSendOptions,
  ): Promise<void> {
    const responseKey = isResponse(message)
      ? requestKey((message as { id: RequestId }).id)
      : undefined;
    if (responseKey !== undefined && session.replay?.key === responseKey) {
      session.replay.done();
      return Promise.resolve();
    }
    if (!this.#answering) {
      return Promise.reject(
        new TransportClosedError(
          `Cannot send message as the server is closed: session ${session.record.id}`,
        ),
      );
    }
    return this.#track(
      this.#deliverFromSession(session, message, responseKey).catch((error) => {
        // The SDK only tells its own server's onerror; operators hear of it here.
        this.#logger.log("error", "send.failed", {
          sessionId: session.record.id,
          method: methodOf(message),
          error: describeError(error),
        });
        this.#options.onerror?.(error instanceof Error ? error : new Error(String(error)));
        throw error;
      }),
    );
  }

  async #deliverFromSession(
    session: HostedSession,
    message: JSONRPCMessage,
    responseKey: string | undefined,
  ): Promise<void> {
    const { record } = session;
    try {
      if (responseKey !== undefined && responseKey === session.pendingInitializeKey) {
        const result = (message as { result?: { protocolVersion?: unknown } }).result;
        if (typeof result?.protocolVersion === "string") {
          record.protocolVersion = result.protocolVersion;
        }
        // Stored before the client can learn the session id, so that any worker can serve
        // its next message.
        await this.#store.set(record);
        session.pendingInitializeKey = undefined;
      }
      const envelope: Envelope = {
        message,
        sessionId: record.id,
        clientId: record.clientId,
        protocolVersion: record.protocolVersion,
      };
      try {
        await this.#sendWithRetries(record, envelope);
      } catch (error) {
        if (!(error instanceof MessageTooLargeError) || responseKey === undefined) throw error;
        await this.#sendWithRetries(record, {
          ...envelope,
          message: errorResponse((message as { id: RequestId }).id, {
            code: JSONRPC_ERROR.INTERNAL_ERROR,
            message: `Result too large to send: ${error.sizeBytes} bytes, ` +
              `the limit is ${error.limitBytes} bytes; return less data or a link to it`,
          }),
        });
      }
    } catch (error) {
      if (responseKey !== undefined) {
        if (error instanceof BrokerError && !error.retryable) {
          // The return address cannot take it (gone, refused): running the request again would
          // only repeat its effects. Settled, and reported by the caller of this method.
          this.#settleRequest(session, responseKey);
        } else {
          // Possibly passing: hand the request back, later each time it comes back.
          this.#releaseRequest(session, responseKey, true);
        }
      }
      throw error;
    }
    if (responseKey !== undefined) this.#settleRequest(session, responseKey);
  }

  /** Sends, retrying a few times in place when the broker says the failure may pass. */
  async #sendWithRetries(
    to: Pick<SessionRecord, "returnAddress" | "returnSecret">,
    envelope: Envelope,
  ): Promise<void> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#options.outbox.send(to.returnAddress, envelope, {
          secret: to.returnSecret,
        });
      } catch (error) {
        if (!(error instanceof BrokerError) || !error.retryable || attempt >= SEND_ATTEMPTS) {
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * 4 ** (attempt - 1)));
      }
    }
  }

  #settleRequest(session: HostedSession, key: string): void {
    const request = this.#takeRequest(session, key);
    if (!request) return;
    for (const delivery of request.deliveries) delivery.ack();
    session.answered.add(key);
    if (session.answered.size > RECENT_ANSWERS_PER_SESSION) {
      session.answered.delete(session.answered.values().next().value!);
    }
  }

  #releaseRequest(session: HostedSession, key: string, backOff = false): void {
    const request = this.#takeRequest(session, key);
    if (!request) return;
    for (const delivery of request.deliveries) {
      delivery.release(
        backOff ? Math.min(2 ** (delivery.receiveCount - 1), MAX_RELEASE_DELAY_SECONDS) : 0,
      );
    }
  }

  #takeRequest(session: HostedSession, key: string): InFlightRequest | undefined {
    const request = session.inFlight.get(key);
    if (!request) return undefined;
    session.inFlight.delete(key);
    this.#inFlightCount--;
    if (this.#inFlightCount === 0) this.#drained?.();
    return request;
  }

  /**
   * Requests acknowledged on receipt (FIFO queues) will not come back from the broker: tell their
   * clients to send them again rather than leave them waiting.
   */
  async #answerUnredeliverable(sessions: HostedSession[]): Promise<void> {
    const answers: Promise<void>[] = [];
    for (const session of sessions) {
      for (const [key, request] of [...session.inFlight]) {
        if (request.deliveries.length > 0) continue;
        this.#takeRequest(session, key);
        answers.push(
          this.#options.outbox.send(session.record.returnAddress, {
            message: errorResponse(request.id, {
              code: JSONRPC_ERROR.SERVER_BUSY,
              message: "Cannot finish request as the server is shutting down: send it again",
            }),
            sessionId: session.record.id,
            clientId: session.record.clientId,
            protocolVersion: session.record.protocolVersion,
          }, { secret: session.record.returnSecret }).catch((error) =>
            this.#options.onerror?.(error)
          ),
        );
      }
    }
    await Promise.all(answers);
  }

  #answerInvalid(delivery: InboxDelivery, invalid: InvalidEnvelope): void {
    const sessionId = invalid.sessionId;
    if (sessionId === undefined) {
      this.#refuse(delivery, invalid.error.message, { sessionId, clientId: invalid.clientId });
      return;
    }
    const answer = (session: HostedSession | undefined) => {
      if (!session) {
        this.#refuse(delivery, `${invalid.error.message} (unknown session)`, {
          sessionId,
          clientId: invalid.clientId,
        }, SESSION_NOT_FOUND);
      } else if (
        invalid.clientId && session.record.clientId && invalid.clientId !== session.record.clientId
      ) {
        this.#refuse(delivery, "client id does not match the session's client", { sessionId });
      } else {
        this.#sendError(session.record, invalid.id, invalid.error, delivery);
      }
    };
    const live = this.#sessions.get(sessionId);
    if (live) answer(live);
    else this.#load(sessionId).then(answer).catch((error) => this.#fail(delivery, error));
  }

  /** Sends an error response to a known return address and settles the delivery once it is out. */
  #sendError(
    record: Pick<
      SessionRecord,
      "id" | "clientId" | "returnAddress" | "returnSecret" | "protocolVersion"
    >,
    id: RequestId | null,
    error: JsonRpcErrorObject,
    delivery: InboxDelivery,
  ): void {
    this.#logger.log("warn", "message.answered_with_error", {
      messageId: delivery.messageId,
      sessionId: record.id || undefined,
      clientId: record.clientId,
      code: error.code,
      reason: error.message,
    });
    if (delivery.refuse) {
      // The sender is waiting for its reply: the error goes there, and only there.
      delivery.refuse(error, id);
      return;
    }
    this.#track(this.#options.outbox.send(record.returnAddress, {
      message: errorResponse(id, error),
      sessionId: record.id || undefined,
      clientId: record.clientId,
      protocolVersion: record.protocolVersion,
    }, { secret: record.returnSecret })).then(
      () => delivery.ack(),
      (sendError) => this.#fail(delivery, sendError),
    );
  }

  /**
   * A message whose return address cannot be used: log why, then tell the sender when it waits
   * for a reply (HTTP), else dead-letter or drop it.
   */
  #refuse(
    delivery: InboxDelivery,
    reason: string,
    fields: Record<string, unknown> = {},
    error: JsonRpcErrorObject = {
      code: JSONRPC_ERROR.INVALID_REQUEST,
      message: `Invalid request: ${reason}`,
    },
  ): void {
    const envelope = delivery.incoming.ok ? delivery.incoming.envelope : undefined;
    this.#logger.log("warn", "message.refused", {
      reason,
      messageId: delivery.messageId,
      receiveCount: delivery.receiveCount,
      sessionId: envelope?.sessionId,
      clientId: envelope?.clientId,
      method: envelope ? methodOf(envelope.message) : undefined,
      ...fields,
    });
    if (delivery.refuse) {
      const id = envelope ? requestIdOf(envelope.message) ?? null : (
        delivery.incoming.ok ? null : delivery.incoming.invalid.id
      );
      delivery.refuse(error, id);
    } else {
      delivery.reject();
    }
  }

  #fail(delivery: InboxDelivery, error: unknown): void {
    this.#logger.log("error", "message.failed", {
      messageId: delivery.messageId,
      error: describeError(error),
    });
    delivery.release();
    this.#options.onerror?.(error instanceof Error ? error : new Error(String(error)));
  }

  #touch(session: HostedSession): void {
    const now = Date.now();
    session.lastActive = now;
    if (now - session.record.lastActiveAt > this.#idleTimeoutMs / 4) {
      session.record.lastActiveAt = now;
      this.#store.set(session.record).catch((error) =>
        this.#reportStoreFailure(session.record.id, error)
      );
    }
  }

  #sweepIdle(): void {
    const cutoff = Date.now() - this.#idleTimeoutMs;
    for (const session of [...this.#sessions.values()]) {
      if (session.lastActive >= cutoff || session.inFlight.size > 0) continue;
      this.#sessions.delete(session.record.id);
      this.#logger.log("info", "session.idle_ended", { sessionId: session.record.id });
      this.#closeSession(session).then(async () => {
        // Another worker may have kept the session busy: only forget it when the store agrees.
        const stored = await this.#store.get(session.record.id);
        if (stored && stored.lastActiveAt < cutoff) await this.#store.delete(session.record.id);
      }).catch((error) => this.#reportStoreFailure(session.record.id, error));
    }
  }

  async #closeSession(session: HostedSession): Promise<void> {
    try {
      await session.server.close();
    } finally {
      await session.transport.close();
    }
  }

  #remember(messageId: string, session: Promise<string | undefined>): void {
    this.#recentInitializes.set(messageId, session);
    if (this.#recentInitializes.size > RECENT_INITIALIZES) {
      this.#recentInitializes.delete(this.#recentInitializes.keys().next().value!);
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

  #log(
    level: "debug" | "info",
    event: string,
    delivery: InboxDelivery,
    envelope: Envelope,
  ): void {
    this.#logger.log(level, event, {
      messageId: delivery.messageId,
      sessionId: envelope.sessionId,
      clientId: envelope.clientId,
      method: methodOf(envelope.message),
      requestId: requestIdOf(envelope.message),
    });
  }
}

const SESSION_NOT_FOUND: JsonRpcErrorObject = {
  code: JSONRPC_ERROR.SESSION_NOT_FOUND,
  message:
    "Session not found: it ended, expired or never existed; send initialize to start a new one",
};

function requestKey(id: RequestId): string {
  // 1 and "1" are different JSON-RPC ids.
  return typeof id === "number" ? `n:${id}` : `s:${id}`;
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

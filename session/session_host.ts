/**
 * The server side of every asyncmcp transport: sessions created on `initialize`, routed by id,
 * answered at their return address, and ended on close or when idle.
 *
 * @module
 */

import { type RequestId, SUPPORTED_PROTOCOL_VERSIONS } from "../sdk.ts";
import type { AddressPolicy } from "./address_policy.ts";
import {
  type Envelope,
  errorResponse,
  type InvalidEnvelope,
  JSONRPC_ERROR,
  type JsonRpcErrorObject,
  methodOf,
  requestIdOf,
} from "./envelope.ts";
import type { Inbox, InboxDelivery } from "./inbox.ts";
import { consoleLogger, describeError, type Logger } from "./logger.ts";
import type { Outbox } from "./outbox.ts";
import { releaseDelaySeconds, requestKey } from "./request_ledger.ts";
import { readReturnAddress, type ReturnAddressKey, takeReturnSecret } from "./return_address.ts";
import { envelopeFor, ReturnPath } from "./return_path.ts";
import { type ConnectableServer, type HostedSession, SessionRegistry } from "./session_registry.ts";
import { MemorySessionStore, type SessionRecord, type SessionStore } from "./session_store.ts";

export type { ConnectableServer } from "./session_registry.ts";

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

/**
 * Who asks to end a session: a session bound to a principal or a client id ends only for that
 * principal and client.
 */
export interface SessionEnder {
  /** The client id the request carried, if any. */
  clientId?: string;
  /** The authenticated principal that sent the request, if the source authenticates. */
  principal?: string;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30 * 60 * 1000;
const DEFAULT_MAX_SESSIONS = 1000;
const DEFAULT_MAX_IN_FLIGHT_PER_SESSION = 256;
const DEFAULT_CLOSE_GRACE_MS = 500;
/** Receives of a message whose handling keeps failing before it is left to the redrive policy. */
const MAX_FAILED_RECEIVES = 10;
/** The longest session id this host reads: anything longer cannot be one it made. */
const MAX_SESSION_ID_LENGTH = 128;

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
  #logger: Logger;
  #idleTimeoutMs: number;
  #requestTimeoutMs: number;
  #maxSessions: number;
  #maxInFlightPerSession: number;
  #closeGraceMs: number;
  #newSessionId: () => string;
  #sessions: SessionRegistry;
  #returns: ReturnPath;
  /** Work that close() must wait for: sessions being opened, answers being sent. */
  #pending = new Set<Promise<unknown>>();
  #inFlightCount = 0;
  #drained?: () => void;
  #started = false;
  #closed = false;
  #sweeper?: ReturnType<typeof setInterval>;

  /** Validates the options; nothing starts until {@linkcode SessionHost.start}. */
  constructor(options: SessionHostOptions) {
    this.#options = options;
    this.#logger = options.logger ?? consoleLogger();
    this.#idleTimeoutMs = positive("idleTimeoutMs", options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS);
    this.#requestTimeoutMs = positive(
      "requestTimeoutMs",
      options.requestTimeoutMs,
      DEFAULT_REQUEST_TIMEOUT_MS,
    );
    this.#maxSessions = positive("maxSessions", options.maxSessions, DEFAULT_MAX_SESSIONS);
    this.#maxInFlightPerSession = positive(
      "maxInFlightPerSession",
      options.maxInFlightPerSession,
      DEFAULT_MAX_IN_FLIGHT_PER_SESSION,
    );
    this.#closeGraceMs = nonNegative("closeGraceMs", options.closeGraceMs, DEFAULT_CLOSE_GRACE_MS);
    this.#newSessionId = options.newSessionId ?? newHexSessionId;
    this.#returns = new ReturnPath({
      outbox: options.outbox,
      redeliverable: !options.inbox.acksOnReceipt,
      save: (record) => this.#sessions.save(record),
      end: (session) =>
        this.#track(this.#sessions.end(session.record.id, () => true)).catch((error) =>
          this.#reportStoreFailure(session.record.id, error)
        ),
      track: (work) => this.#track(work),
      onerror: (error) => this.#options.onerror?.(error),
      logger: this.#logger,
    });
    this.#sessions = new SessionRegistry({
      createServer: options.createServer,
      store: options.store ?? new MemorySessionStore(),
      idleTimeoutMs: this.#idleTimeoutMs,
      logger: this.#logger,
      send: (session, message, sendOptions) => this.#returns.send(session, message, sendOptions),
      countRequests: (delta) => {
        this.#inFlightCount += delta;
        if (this.#inFlightCount === 0) this.#drained?.();
      },
      onServerClosed: (session) => {
        for (const key of session.requests.keys()) session.requests.release(key);
        this.#returns.forget(session.record.id);
      },
      onStoreFailure: (sessionId, error) => this.#reportStoreFailure(sessionId, error),
    });
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
    const sweepEveryMs = Math.min(
      Math.max(Math.min(this.#idleTimeoutMs, this.#requestTimeoutMs) / 4, 10),
      60_000,
    );
    this.#sweeper = setInterval(() => this.#sweep(), sweepEveryMs);
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
    this.#returns.answering = false;
    await this.#settlePending();
    await this.#returns.answerUnredeliverable(this.#sessions.all());
    await inbox.close();
    await this.#sessions.close();
    await outbox.close();
  }

  /**
   * Ends a session: closes its MCP server and forgets it here and in the store. With `from` (a
   * client's own request, such as an HTTP DELETE) a session bound to a client id ends only when
   * `from` carries that id. Resolves false when there is no such session, or it is not theirs.
   */
  endSession(sessionId: string, from?: SessionEnder): Promise<boolean> {
    if (!plausibleSessionId(sessionId)) return Promise.resolve(false);
    return this.#sessions.end(
      sessionId,
      (record) =>
        from === undefined ||
        (record.principal === from.principal && clientMatches(record, from.clientId)),
    );
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
    this.#withSession(delivery, envelope.sessionId, (session) => {
      if (session) this.#route(session, delivery, envelope);
      else this.#refuse(delivery, "unknown or expired session", {}, SESSION_NOT_FOUND);
    });
  }

  /** Finds the session (here, or rebuilt from the store) and hands it to `then`. */
  #withSession(
    delivery: InboxDelivery,
    sessionId: string,
    then: (session: HostedSession | undefined) => void,
  ): void {
    const live = this.#sessions.get(sessionId);
    if (live) {
      then(live);
      return;
    }
    // An id this host could never have made is not looked up: the store may refuse the key.
    if (!plausibleSessionId(sessionId)) {
      then(undefined);
      return;
    }
    this.#track(this.#sessions.load(sessionId)).then((session) => {
      if (!session && this.#closed) delivery.release();
      else then(session);
    }).catch((error) => this.#fail(delivery, error));
  }

  #route(session: HostedSession, delivery: InboxDelivery, envelope: Envelope): void {
    const { record, requests } = session;
    if (record.principal !== delivery.principal) {
      this.#refuse(delivery, "session belongs to another principal", {}, FORBIDDEN_SESSION);
      return;
    }
    if (!clientMatches(record, envelope.clientId)) {
      // Answering would tell the session's real client about a request it never sent.
      this.#refuse(delivery, clientMismatch(envelope.clientId));
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
    this.#sessions.touch(session);
    this.#returns.sendParked(session);
    if (id === undefined) {
      session.transport.receive(message);
      delivery.ack(record.id);
      if (methodOf(message) === "notifications/cancelled") {
        // A cancelled request is never answered (MCP spec), so its message is settled here or it
        // would come back after close and run again.
        const cancelled = (message as { params?: { requestId?: unknown } }).params?.requestId;
        if (typeof cancelled === "string" || typeof cancelled === "number") {
          requests.settle(requestKey(cancelled));
        }
      }
      return;
    }
    const key = requestKey(id);
    if (requests.answered(key)) {
      this.#log("debug", "request.duplicate_answered", delivery, envelope);
      delivery.ack();
      return;
    }
    const pending = requests.get(key);
    if (pending) {
      this.#log("debug", "request.duplicate_in_flight", delivery, envelope);
      if (this.#options.inbox.acksOnReceipt) delivery.ack(record.id);
      else pending.deliveries.push(delivery);
      return;
    }
    if (requests.size >= this.#maxInFlightPerSession) {
      this.#sendError(session.record, id, {
        code: JSONRPC_ERROR.SERVER_BUSY,
        message: `Server busy: this session has ${this.#maxInFlightPerSession} requests ` +
          "unanswered or undelivered; wait for their answers, then send it again",
      }, delivery);
      return;
    }
    let deliveries = [delivery];
    if (this.#options.inbox.acksOnReceipt) {
      // A FIFO queue withholds the session's next messages (cancellations, answers to the
      // server's own requests) until this one is deleted, and an HTTP sender waits for its
      // acknowledgement: settle now or the session stalls.
      delivery.ack(record.id);
      deliveries = [];
    }
    requests.begin(key, id, deliveries, Date.now() + this.#requestTimeoutMs);
    if (!session.transport.receive(message)) requests.release(key);
  }

  async #initialize(delivery: InboxDelivery, envelope: Envelope): Promise<void> {
    const { message } = envelope;
    const id = requestIdOf(message);
    if (id === undefined) {
      this.#refuse(delivery, "initialize must be a request with an id");
      return;
    }
    const earlier = this.#sessions.createdBy(delivery.messageId);
    if (earlier) {
      // The broker delivered this initialize again: it joins the session it created.
      const sessionId = await earlier;
      const session = sessionId === undefined ? undefined : this.#sessions.get(sessionId);
      if (session) this.#route(session, delivery, { ...envelope, sessionId });
      else delivery.ack();
      return;
    }
    const { returnAddressKey, addressPolicy } = this.#options;
    const returnAddress = readReturnAddress(message, returnAddressKey);
    // The secret is for signing what the session sends; the MCP server never sees it.
    const { message: initialize, secret: returnSecret } = takeReturnSecret(
      message,
      returnAddressKey,
    );
    if (returnAddress === undefined) {
      this.#refuse(
        delivery,
        `initialize has no return address in params._meta.${returnAddressKey.meta}`,
      );
      return;
    }
    const verdict = await addressPolicy(returnAddress);
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
    const replyTo = {
      id: "",
      clientId: envelope.clientId,
      principal: delivery.principal,
      returnAddress,
      returnSecret,
    };
    if (this.#sessions.count >= this.#maxSessions) {
      this.#sendError(replyTo, id, {
        code: JSONRPC_ERROR.SERVER_BUSY,
        message:
          `Cannot create session as this server holds its limit of ${this.#maxSessions} sessions: ` +
          "try again later or close unused sessions",
      }, delivery);
      return;
    }
    let session: HostedSession | undefined;
    try {
      const now = Date.now();
      // A session id the client proposes is never adopted (session fixation).
      const record: SessionRecord = {
        ...replyTo,
        id: this.#freshSessionId(),
        initialize,
        createdAt: now,
        lastActiveAt: now,
      };
      session = await this.#sessions.create(record, delivery.messageId);
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
    this.#log("info", "session.created", delivery, { ...envelope, sessionId: session.record.id });
    this.#route(session, delivery, {
      ...envelope,
      message: initialize,
      sessionId: session.record.id,
    });
  }

  #freshSessionId(): string {
    const id = this.#newSessionId();
    if (!plausibleSessionId(id)) {
      throw new RangeError(
        `Cannot create session as 'newSessionId' returned an unusable id: use 1 to ` +
          `${MAX_SESSION_ID_LENGTH} visible ASCII characters, current value is ${
            JSON.stringify(id)
          }`,
      );
    }
    return id;
  }

  /** Housekeeping: ends idle sessions and answers requests the MCP server has held too long. */
  #sweep(): void {
    this.#sessions.sweepIdle();
    const now = Date.now();
    for (const session of this.#sessions.all()) {
      for (const key of session.requests.overdue(now)) {
        const { id } = session.requests.get(key)!;
        this.#logger.log("warn", "request.timed_out", {
          sessionId: session.record.id,
          requestId: id,
          timeoutMs: this.#requestTimeoutMs,
        });
        // The server's own answer, should it come, is then dropped as a second one.
        this.#returns.send(
          session,
          errorResponse(id, {
            code: JSONRPC_ERROR.INTERNAL_ERROR,
            message: `Request timed out: the server did not answer within ` +
              `${this.#requestTimeoutMs} ms; run long jobs as tasks`,
          }),
        ).catch(() => {});
        session.transport.receive({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: id, reason: "timed out" },
        });
      }
    }
  }

  #answerInvalid(delivery: InboxDelivery, invalid: InvalidEnvelope): void {
    const sessionId = invalid.sessionId;
    if (sessionId === undefined) {
      this.#refuse(delivery, invalid.error.message, { sessionId, clientId: invalid.clientId });
      return;
    }
    this.#withSession(delivery, sessionId, (session) => {
      if (!session) {
        this.#refuse(delivery, `${invalid.error.message} (unknown session)`, {
          sessionId,
          clientId: invalid.clientId,
        }, SESSION_NOT_FOUND);
      } else if (session.record.principal !== delivery.principal) {
        this.#refuse(delivery, "session belongs to another principal", {}, FORBIDDEN_SESSION);
      } else if (!clientMatches(session.record, invalid.clientId)) {
        this.#refuse(delivery, clientMismatch(invalid.clientId), { sessionId });
      } else {
        this.#sendError(session.record, invalid.id, invalid.error, delivery);
      }
    });
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
    this.#track(this.#returns.sendEnvelope(record, envelopeFor(record, errorResponse(id, error))))
      .then(
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

  /**
   * Handling failed (the store, the broker): the message comes back later, each time later, and
   * after {@linkcode MAX_FAILED_RECEIVES} receives it is left to the redrive policy.
   */
  #fail(delivery: InboxDelivery, error: unknown): void {
    const fields = {
      messageId: delivery.messageId,
      receiveCount: delivery.receiveCount,
      error: describeError(error),
    };
    if (delivery.receiveCount >= MAX_FAILED_RECEIVES) {
      this.#logger.log("error", "message.abandoned", {
        ...fields,
        reason: `handling failed on ${delivery.receiveCount} receives`,
      });
      delivery.reject();
    } else {
      // Logged once, not at every one of its receives.
      this.#logger.log(delivery.receiveCount === 1 ? "error" : "debug", "message.failed", fields);
      delivery.release(releaseDelaySeconds(delivery.receiveCount));
    }
    this.#options.onerror?.(asError(error));
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
    this.#options.onerror?.(asError(error));
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

const FORBIDDEN_SESSION: JsonRpcErrorObject = {
  code: JSONRPC_ERROR.FORBIDDEN,
  message: "Forbidden: this session belongs to another principal; start a session of your own",
};

const SESSION_NOT_FOUND: JsonRpcErrorObject = {
  code: JSONRPC_ERROR.SESSION_NOT_FOUND,
  message:
    "Session not found: it ended, expired or never existed; send initialize to start a new one",
};

/**
 * Whether `sessionId` could be one this host made: visible ASCII, not too long. Anything else is
 * refused as unknown without asking the store (a key store may throw on it).
 */
function plausibleSessionId(sessionId: string): boolean {
  return sessionId.length > 0 && sessionId.length <= MAX_SESSION_ID_LENGTH &&
    /^[\x21-\x7e]+$/.test(sessionId);
}

/**
 * A session bound to a client id takes messages carrying that id only: leaving the id out must
 * not be a way around the check (the Python peer's clients always send one).
 */
function clientMatches(record: SessionRecord, clientId: string | undefined): boolean {
  return record.clientId === undefined || clientId === record.clientId;
}

function clientMismatch(clientId: string | undefined): string {
  return clientId === undefined
    ? "message has no client id but its session is bound to one: send the ClientId (X-Client-ID) it began with"
    : "client id does not match the session's client";
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
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

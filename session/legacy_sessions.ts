/**
 * 2025-11-25 sessions over an asynchronous channel: `initialize` opens a session at the return
 * address it names, every later message is routed by its session id to that session's MCP
 * server, bound to the client (and principal) that opened it.
 *
 * @module
 */

import { SUPPORTED_PROTOCOL_VERSIONS } from "../sdk.ts";
import type { AddressPolicy } from "./address_policy.ts";
import type { DeliveryAnswers } from "./delivery_answers.ts";
import {
  type Envelope,
  type InvalidEnvelope,
  JSONRPC_ERROR,
  type JsonRpcErrorObject,
  methodOf,
  requestIdOf,
} from "./envelope.ts";
import type { InboxDelivery } from "./inbox.ts";
import { describeError, type Logger } from "./logger.ts";
import { busy, requestKey } from "./request_ledger.ts";
import type { ReturnPath } from "./return_path.ts";
import { readReturnAddress, type ReturnAddressKey, takeReturnSecret } from "./return_address.ts";
import type { HostedSession, SessionRegistry } from "./session_registry.ts";
import type { SessionRecord } from "./session_store.ts";

/** What {@linkcode LegacySessions} needs from its host. */
export interface LegacySessionsOptions {
  /** The host's sessions. */
  sessions: SessionRegistry;
  /** Sends what sessions send, and what was kept for their clients. */
  returns: ReturnPath;
  /** Settles deliveries that are not handed to an MCP server. */
  answers: DeliveryAnswers;
  /** Which `initialize` params carry the return address. */
  returnAddressKey: ReturnAddressKey;
  /** Which return addresses may be used. */
  addressPolicy: AddressPolicy;
  /** Sessions this process holds at most. */
  maxSessions: number;
  /** Requests one session may have running or undelivered. */
  maxInFlightPerSession: number;
  /** How long a request may run before it is answered with an error, in ms. */
  requestTimeoutMs: number;
  /** Chooses session ids. */
  newSessionId: () => string;
  /**
   * Whether the inbox settles requests on receipt (FIFO queues, HTTP); asked each time, as an
   * SQS inbox learns it only when it starts.
   */
  acksOnReceipt: () => boolean;
  /** Whether the host is closing. */
  closed: () => boolean;
  /** Keeps work in the set that closing waits for. */
  track: <T>(work: Promise<T>) => Promise<T>;
  /** Told of failures nobody waits for. */
  onerror: (error: Error) => void;
  /** Where events are logged. */
  logger: Logger;
}

/** Who asks to end a session, as {@linkcode LegacySessions.end} checks it. */
export interface SessionEnder {
  /** The client id the request carried, if any. */
  clientId?: string;
  /** The authenticated principal that sent the request, if the source authenticates. */
  principal?: string;
}

/** The longest session id this host reads: anything longer cannot be one it made. */
const MAX_SESSION_ID_LENGTH = 128;

/** Opens and serves 2025-era sessions (see the module documentation). */
export class LegacySessions {
  readonly #options: LegacySessionsOptions;
  readonly #sessions: SessionRegistry;
  readonly #answers: DeliveryAnswers;

  /** Creates the session side of a host. */
  constructor(options: LegacySessionsOptions) {
    this.#options = options;
    this.#sessions = options.sessions;
    this.#answers = options.answers;
  }

  /**
   * Ends a session: closes its MCP server and forgets it here and in the store. With `from` (a
   * client's own request, such as an HTTP DELETE) a session bound to a principal or a client id
   * ends only for them. Resolves false when there is no such session, or it is not theirs.
   */
  end(sessionId: string, from?: SessionEnder): Promise<boolean> {
    if (!plausibleSessionId(sessionId)) return Promise.resolve(false);
    return this.#sessions.end(
      sessionId,
      (record) =>
        from === undefined ||
        (record.principal === from.principal && clientMatches(record, from.clientId)),
    );
  }

  /** Takes a 2025-era message: an `initialize`, or a message of a session. */
  accept(delivery: InboxDelivery, envelope: Envelope): void {
    if (methodOf(envelope.message) === "initialize") {
      this.#options.track(this.#initialize(delivery, envelope)).catch((error) =>
        this.#answers.fail(delivery, error)
      );
      return;
    }
    if (envelope.sessionId === undefined) {
      this.#answers.refuse(
        delivery,
        "message has no session id (the X-Session-ID header, or the SessionId attribute on a queue) " +
          "and is not an initialize request",
      );
      return;
    }
    this.#withSession(delivery, envelope.sessionId, (session) => {
      if (session) this.#route(session, delivery, envelope);
      else this.#answers.refuse(delivery, "unknown or expired session", {}, SESSION_NOT_FOUND);
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
    this.#options.track(this.#sessions.load(sessionId)).then((session) => {
      if (!session && this.#options.closed()) delivery.release();
      else then(session);
    }).catch((error) => this.#answers.fail(delivery, error));
  }

  #route(session: HostedSession, delivery: InboxDelivery, envelope: Envelope): void {
    const { record, requests } = session;
    if (record.principal !== delivery.principal) {
      this.#answers.refuse(delivery, "session belongs to another principal", {}, FORBIDDEN_SESSION);
      return;
    }
    if (!clientMatches(record, envelope.clientId)) {
      // Answering would tell the session's real client about a request it never sent.
      this.#answers.refuse(delivery, clientMismatch(envelope.clientId));
      return;
    }
    const { message } = envelope;
    const id = requestIdOf(message);
    if (
      envelope.protocolVersion !== undefined &&
      !SUPPORTED_PROTOCOL_VERSIONS.includes(envelope.protocolVersion)
    ) {
      if (id === undefined) {
        this.#answers.refuse(delivery, `unsupported protocol version ${envelope.protocolVersion}`);
        return;
      }
      this.#answers.sendError(session.record, id, {
        code: JSONRPC_ERROR.INVALID_REQUEST,
        message: `Unsupported protocol version ${envelope.protocolVersion}: ` +
          `use one of ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}`,
      }, delivery);
      return;
    }
    this.#sessions.touch(session);
    this.#options.returns.sendParked(session);
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
    const acksOnReceipt = this.#options.acksOnReceipt();
    const duplicate = requests.settleDuplicate(key, delivery, acksOnReceipt, record.id);
    if (duplicate) {
      this.#log("debug", `request.duplicate_${duplicate}`, delivery, envelope);
      return;
    }
    if (requests.size >= this.#options.maxInFlightPerSession) {
      this.#answers.sendError(session.record, id, busy("session", requests.size), delivery);
      return;
    }
    const deadline = Date.now() + this.#options.requestTimeoutMs;
    requests.admit(key, id, delivery, deadline, acksOnReceipt, record.id);
    if (!session.transport.receive(message)) requests.release(key);
  }

  async #initialize(delivery: InboxDelivery, envelope: Envelope): Promise<void> {
    const { message } = envelope;
    const id = requestIdOf(message);
    if (id === undefined) {
      this.#answers.refuse(delivery, "initialize must be a request with an id");
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
      this.#answers.refuse(
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
      this.#answers.refuse(delivery, "return address refused by the address policy", {
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
    if (this.#sessions.count >= this.#options.maxSessions) {
      this.#answers.sendError(replyTo, id, {
        code: JSONRPC_ERROR.SERVER_BUSY,
        message:
          `Cannot create session as this server holds its limit of ${this.#options.maxSessions} sessions: ` +
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
      this.#answers.sendError(replyTo, id, {
        code: JSONRPC_ERROR.INTERNAL_ERROR,
        message: `Cannot create session as the server failed to start: ${describeError(error)}`,
      }, delivery);
      this.#options.onerror(error instanceof Error ? error : new Error(String(error)));
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
    const id = this.#options.newSessionId();
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

  /** Answers a malformed message in the session it names, if the session is known. */
  answerInvalid(delivery: InboxDelivery, invalid: InvalidEnvelope): void {
    const sessionId = invalid.sessionId;
    if (sessionId === undefined) {
      this.#answers.refuse(delivery, invalid.error.message, {
        sessionId,
        clientId: invalid.clientId,
      });
      return;
    }
    this.#withSession(delivery, sessionId, (session) => {
      if (!session) {
        this.#answers.refuse(delivery, `${invalid.error.message} (unknown session)`, {
          sessionId,
          clientId: invalid.clientId,
        }, SESSION_NOT_FOUND);
      } else if (session.record.principal !== delivery.principal) {
        this.#answers.refuse(
          delivery,
          "session belongs to another principal",
          {},
          FORBIDDEN_SESSION,
        );
      } else if (!clientMatches(session.record, invalid.clientId)) {
        this.#answers.refuse(delivery, clientMismatch(invalid.clientId), { sessionId });
      } else {
        this.#answers.sendError(session.record, invalid.id, invalid.error, delivery);
      }
    });
  }

  #log(
    level: "debug" | "info",
    event: string,
    delivery: InboxDelivery,
    envelope: Envelope,
  ): void {
    this.#options.logger.log(level, event, {
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

/**
 * The client side of every asyncmcp transport: an SDK `Transport` that sends through an outbox and
 * receives through a shared reply channel.
 *
 * @module
 */

import type {
  JSONRPCMessage,
  MessageExtraInfo,
  RequestId,
  Transport,
  TransportSendOptions,
} from "../sdk.ts";
import { errorResponse, isResponse, JSONRPC_ERROR, methodOf, requestIdOf } from "./envelope.ts";
import { MessageRefusedError, TransportClosedError } from "./errors.ts";
import type { InboxDelivery } from "./inbox.ts";
import { consoleLogger, type Logger } from "./logger.ts";
import type { Outbox } from "./outbox.ts";
import type { ReplyRoute, ReplyRouter } from "./reply_router.ts";
import { withMeta } from "./return_address.ts";

/** Options for {@linkcode ClientTransport}. */
export interface ClientTransportOptions {
  /** Where messages to the server leave; the transport closes it on `close()`. */
  outbox: Outbox;
  /** The server's address in that outbox (request queue URL, request topic ARN, server URL). */
  serverAddress: string;
  /**
   * The reply channel this client receives on, or a function that finds it when the transport
   * starts (so that a channel closing meanwhile is replaced by a fresh one).
   */
  replies: ReplyRouter | (() => ReplyRouter);
  /**
   * Fields added to `initialize`'s `params._meta`, the return address first among them; a
   * function when the address is only known once the reply channel runs (a port chosen by the OS).
   */
  initializeMeta: Record<string, string> | (() => Record<string, string>);
  /** This client's id, sent with every message. @default {crypto.randomUUID()} */
  clientId?: string;
  /** Where events are logged. @default {consoleLogger()} */
  logger?: Logger;
}

/**
 * An SDK `Transport` for MCP clients over any outbox and reply channel. Adds the return address
 * to `initialize`, learns the session id from its answer, and passes on only this client's
 * messages. The transports' client classes (`SqsClientTransport`, ...) build one for you.
 *
 * @example Use a client transport with the SDK client
 * ```ts ignore
 * import { Client } from "@asyncmcp/asyncmcp/sdk";
 * import { ClientTransport } from "@asyncmcp/asyncmcp/session";
 *
 * const transport = new ClientTransport({
 *   outbox: myOutbox,
 *   serverAddress: "https://server.example.com/requests",
 *   replies: myReplyRouter,
 *   initializeMeta: { replyTo: "https://client.example.com/replies" },
 * });
 * await new Client({ name: "example", version: "1.0.0" }).connect(transport);
 * ```
 */
export class ClientTransport implements Transport {
  /** Set by the SDK: called once when the transport closes. */
  onclose?: () => void;
  /** Set by the SDK: out-of-band errors. */
  onerror?: (error: Error) => void;
  /** Set by the SDK: each message from the server. */
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  /** This client's id, sent with every message. */
  readonly clientId: string;

  #options: ClientTransportOptions;
  #logger: Logger;
  #sessionId?: string;
  #protocolVersion?: string;
  /** The id `initialize` travels with, unique on a shared channel, and the SDK's own id for it. */
  #pendingInitialize?: { wireId: string; id: RequestId };
  #started = false;
  #closed = false;
  #closing?: Promise<void>;
  #route: ReplyRoute;
  #replies?: ReplyRouter;

  /** Creates the transport; nothing is received until the SDK calls `start()`. */
  constructor(options: ClientTransportOptions) {
    this.#options = options;
    this.#logger = options.logger ?? consoleLogger();
    this.clientId = options.clientId ?? crypto.randomUUID();
    const sessionId = () => this.#sessionId;
    const pendingInitializeId = () => this.#pendingInitialize?.wireId;
    this.#route = {
      clientId: this.clientId,
      get sessionId() {
        return sessionId();
      },
      get pendingInitializeId() {
        return pendingInitializeId();
      },
      deliver: (delivery) => this.#receive(delivery),
      fail: (error) => this.onerror?.(error),
      unverified: (id, reason) => this.#unverified(id, reason),
    };
  }

  /** The session id the server chose, once its answer to `initialize` has arrived. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** Starts receiving replies. Throws when called twice. */
  async start(): Promise<void> {
    if (this.#started) {
      throw new Error("Cannot start client transport as it is already started: call start() once");
    }
    this.#started = true;
    const { replies } = this.#options;
    this.#replies = typeof replies === "function" ? replies() : replies;
    await this.#replies.attach(this.#route);
  }

  /**
   * Sends a message to the server. Rejects (and so fails the SDK's pending request) when the
   * transport is closed or the message cannot be sent.
   */
  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    if (this.#closed) {
      throw new TransportClosedError("Cannot send message as the client transport is closed");
    }
    const id = requestIdOf(message);
    let wire = message;
    if (methodOf(message) === "initialize") {
      // Every SDK client starts with id 0: against a server that echoes no ClientId, a unique
      // id is what tells clients sharing a reply channel which answer is theirs.
      const wireId = `${this.clientId}/initialize/${id}`;
      this.#pendingInitialize = { wireId, id: id! };
      const { initializeMeta } = this.#options;
      wire = {
        ...withMeta(
          message,
          typeof initializeMeta === "function" ? initializeMeta() : initializeMeta,
        ),
        id: wireId,
      } as JSONRPCMessage;
    }
    try {
      await this.#options.outbox.send(this.#options.serverAddress, {
        message: wire,
        clientId: this.clientId,
        sessionId: this.#sessionId,
        protocolVersion: this.#protocolVersion,
      });
    } catch (error) {
      if (!(error instanceof MessageRefusedError) || id === undefined) throw error;
      // The server said no right away: the caller gets its reason as the request's answer.
      if (this.#pendingInitialize?.id === id) this.#pendingInitialize = undefined;
      queueMicrotask(() => this.onmessage?.(errorResponse(id, error.error)));
    }
  }

  /** Called by the SDK client with the negotiated version; sent with later messages. */
  setProtocolVersion(version: string): void {
    this.#protocolVersion = version;
  }

  /**
   * Stops receiving and fires `onclose` once. Later calls wait for the same close to finish (the
   * SDK closes a transport itself, without waiting, when `connect()` fails).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      try {
        await Promise.all([
          this.#replies?.detach(this.#route),
          this.#options.outbox.close(),
        ]);
      } finally {
        this.onclose?.();
      }
    })();
    return this.#closing;
  }

  /**
   * The server's answer was refused for its signature: the request it answered fails now, with
   * the reason, instead of waiting for its timeout.
   */
  #unverified(id: RequestId | undefined, reason: string): void {
    if (this.#closed) return;
    const error = new Error(reason);
    this.onerror?.(error);
    if (id === undefined) return;
    let sdkId = id;
    if (this.#pendingInitialize?.wireId === id) {
      sdkId = this.#pendingInitialize.id;
      this.#pendingInitialize = undefined;
    }
    this.onmessage?.(errorResponse(sdkId, { code: JSONRPC_ERROR.INTERNAL_ERROR, message: reason }));
  }

  #receive(delivery: InboxDelivery): void {
    delivery.ack();
    if (this.#closed) return;
    const { incoming } = delivery;
    if (!incoming.ok) {
      this.onerror?.(
        new SyntaxError(`Cannot read message from the server: ${incoming.invalid.error.message}`),
      );
      return;
    }
    const { envelope } = incoming;
    let { message } = envelope;
    const pending = this.#pendingInitialize;
    if (pending && isResponse(message) && (message as { id: RequestId }).id === pending.wireId) {
      this.#pendingInitialize = undefined;
      // A refused initialize comes back without a session.
      if (envelope.sessionId !== undefined) this.#sessionId = envelope.sessionId;
      message = { ...message, id: pending.id } as JSONRPCMessage;
    } else if (envelope.sessionId !== undefined && envelope.sessionId !== this.#sessionId) {
      this.#logger.log("debug", "reply.other_session", {
        clientId: this.clientId,
        sessionId: envelope.sessionId,
        expectedSessionId: this.#sessionId,
      });
      return;
    }
    this.onmessage?.(message);
  }
}

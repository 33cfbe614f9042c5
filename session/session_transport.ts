/**
 * The SDK `Transport` that one hosted session's MCP server talks through.
 *
 * @module
 */

import type { JSONRPCMessage, MessageExtraInfo, Transport, TransportSendOptions } from "../sdk.ts";
import { TransportClosedError } from "./errors.ts";

/** Hands a message from the session's server to whatever delivers it. */
export type SessionSend = (
  message: JSONRPCMessage,
  options?: TransportSendOptions,
) => Promise<void>;

/**
 * A server-side `Transport` for exactly one session. The session host pushes received messages in
 * with {@linkcode SessionTransport.receive} and routes whatever the server sends.
 *
 * @example Connect an MCP server to a session transport
 * ```ts
 * import { McpServer } from "@asyncmcp/asyncmcp/sdk";
 * import { SessionTransport } from "./session_transport.ts";
 *
 * const transport = new SessionTransport("session-1", (message) => {
 *   console.log("server says", message);
 *   return Promise.resolve();
 * });
 * await new McpServer({ name: "demo", version: "1.0.0" }).connect(transport);
 * transport.receive({ jsonrpc: "2.0", id: 1, method: "ping" });
 * await transport.close();
 * ```
 */
export class SessionTransport implements Transport {
  /** The id of the session this transport serves. */
  readonly sessionId: string;
  /** Set by the SDK: called once when the transport closes. */
  onclose?: () => void;
  /** Set by the SDK: out-of-band errors. */
  onerror?: (error: Error) => void;
  /** Set by the SDK: each received message. */
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  #send: SessionSend;
  #started = false;
  #closed = false;

  /** Creates a transport for `sessionId` whose outgoing messages go to `send`. */
  constructor(sessionId: string, send: SessionSend) {
    this.sessionId = sessionId;
    this.#send = send;
  }

  /** Whether {@linkcode SessionTransport.close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Starts the transport; the SDK calls it from `connect()`. Throws when called twice. */
  start(): Promise<void> {
    if (this.#started) {
      throw new Error("Cannot start session transport as it is already started: call start() once");
    }
    this.#started = true;
    return Promise.resolve();
  }

  /** Sends a message from the server to the session's client. */
  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new TransportClosedError(`Cannot send message as session ${this.sessionId} is closed`),
      );
    }
    return this.#send(message, options);
  }

  /** Hands a received message to the server. Returns false when the transport is closed. */
  receive(message: JSONRPCMessage, extra?: MessageExtraInfo): boolean {
    if (this.#closed) return false;
    this.onmessage?.(message, extra);
    return true;
  }

  /** Closes the transport and fires `onclose` once; later calls return at once. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.onclose?.();
    return Promise.resolve();
  }
}

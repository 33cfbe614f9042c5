/**
 * One client's stateless 2026-07-28 requests served by one SDK v2 server, as the SDK's own stdio
 * entry (`serveStdio`) serves a connection: the server built for the client's first request
 * serves its later ones too. Building a server per request costs about
 * four times the CPU of serving one on a pinned server; a client's requests each still carry all
 * they need, so any worker can serve any of them.
 *
 * @module
 */

import type {
  McpServer as McpServerV2,
  Transport as TransportV2,
  TransportSendOptions as TransportSendOptionsV2,
} from "@modelcontextprotocol/server";
import { serveStdio, type StdioServerHandle } from "@modelcontextprotocol/server/stdio";
import type { JSONRPCMessage, RequestId } from "../sdk.ts";
import { isResponse } from "./envelope.ts";
import { promiseWithResolvers } from "./runtime.ts";

/** The `_meta` key with which a subscription's notifications name their `subscriptions/listen`. */
const SUBSCRIPTION_ID_META_KEY = "io.modelcontextprotocol/subscriptionId";

/** What {@linkcode ClientConnection} needs. */
export interface ClientConnectionOptions {
  /** The SDK v2 server the connection pins, built by the host's factory. */
  server: McpServerV2;
  /**
   * Takes what the server sends, with the id of the client's request it belongs to (a response's
   * own id, the request a notification relates to, the `subscriptions/listen` a change belongs
   * to), or undefined when it names none; resolves once it is out.
   */
  out: (message: JSONRPCMessage, requestId: RequestId | undefined) => Promise<void>;
  /** Told of the serving entry's own failures. */
  onerror: (error: Error) => void;
}

/** A client's pinned server (see the module documentation). */
export class ClientConnection {
  /** The pinned server. */
  readonly server: McpServerV2;
  readonly #channel: ConnectionChannel;
  readonly #handle: StdioServerHandle;

  /** Starts serving the client's requests on `options.server`. */
  constructor(options: ClientConnectionOptions) {
    this.server = options.server;
    this.#channel = new ConnectionChannel(options.out);
    this.#handle = serveStdio(() => options.server, {
      transport: this.#channel,
      legacy: "reject",
      onerror: options.onerror,
    });
  }

  /** Hands one of the client's messages to the server. */
  deliver(message: JSONRPCMessage): Promise<void> {
    return this.#channel.deliver(message);
  }

  /** Closes the server and the connection; open subscriptions are answered first. Idempotent. */
  close(): Promise<void> {
    return this.#handle.close();
  }
}

/** The transport between the pinned server (through `serveStdio`) and the connection. */
class ConnectionChannel implements TransportV2 {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: TransportV2["onmessage"];
  readonly #out: ClientConnectionOptions["out"];
  readonly #started = promiseWithResolvers<void>();
  #closed = false;

  constructor(out: ClientConnectionOptions["out"]) {
    this.#out = out;
  }

  start(): Promise<void> {
    this.#started.resolve();
    return Promise.resolve();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptionsV2): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#out(message, requestOf(message, options?.relatedRequestId));
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    // A channel closed before it started lets nothing wait for the start.
    this.#started.resolve();
    this.onclose?.();
    return Promise.resolve();
  }

  /** Hands `message` to the server once the channel has started. */
  async deliver(message: JSONRPCMessage): Promise<void> {
    await this.#started.promise;
    if (!this.#closed) this.onmessage?.(message as never);
  }
}

/** The client request a message the server sends belongs to, if it names one. */
function requestOf(
  message: JSONRPCMessage,
  relatedRequestId: RequestId | undefined,
): RequestId | undefined {
  if (isResponse(message)) return (message as { id: RequestId }).id;
  if (relatedRequestId !== undefined) return relatedRequestId;
  const meta = (message as { params?: { _meta?: Record<string, unknown> } }).params?._meta;
  const subscription = meta?.[SUBSCRIPTION_ID_META_KEY];
  return typeof subscription === "string" || typeof subscription === "number"
    ? subscription
    : undefined;
}

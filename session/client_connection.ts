/**
 * One client's stateless 2026-07-28 requests served by one SDK v2 server, as the SDK's own stdio
 * entry (`serveStdio`) serves a connection: the server built for the client's first request
 * serves its later ones too. Building a server per request costs about
 * four times the CPU of serving one on a pinned server; a client's requests each still carry all
 * they need, so any worker can serve any of them.
 *
 * @module
 */

import {
  type McpServer as McpServerV2,
  SUBSCRIPTION_ID_META_KEY,
  type Transport as TransportV2,
  type TransportSendOptions as TransportSendOptionsV2,
} from "@modelcontextprotocol/server";
import { serveStdio, type StdioServerHandle } from "@modelcontextprotocol/server/stdio";
import type { JSONRPCMessage, RequestId } from "../sdk.ts";
import { errorResponse, isResponse, JSONRPC_ERROR, methodOf, requestIdOf } from "./envelope.ts";
import { promiseWithResolvers } from "./runtime.ts";
import { lowLevelServer } from "./server_eras.ts";

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

/**
 * Methods the serving entry answers itself, or that decide the connection's era: always handed to
 * the entry.
 */
const ENTRY_METHODS = new Set(["initialize", "server/discover", "subscriptions/listen"]);

/** The SDK's channel between the serving entry and the instance it pinned. */
interface InstanceChannel {
  deliver(message: JSONRPCMessage): void;
}

/** A client's pinned server (see the module documentation). */
export class ClientConnection {
  /** The pinned server. */
  readonly server: McpServerV2;
  readonly #channel: ConnectionChannel;
  readonly #handle: StdioServerHandle;
  readonly #onerror: (error: Error) => void;
  /** Requests handed to the entry before it pinned the server. */
  readonly #opening = new Set<RequestId>();
  #pinned = false;
  #closing = false;

  /** Starts serving the client's requests on `options.server`. */
  constructor(options: ClientConnectionOptions) {
    this.server = options.server;
    this.#onerror = options.onerror;
    this.#channel = new ConnectionChannel((message, requestId) => {
      if (!this.#pinned && requestId !== undefined && this.#opening.has(requestId)) {
        if (!("error" in message)) {
          // Only the server itself sends a result or a notification for a request: the entry
          // handed it on, so it pinned the server. (Its own refusals are errors.)
          this.#pinned = true;
          this.#opening.clear();
        } else if (isResponse(message)) {
          this.#opening.delete(requestId);
        }
      }
      return options.out(message, requestId);
    });
    this.#handle = serveStdio(() => options.server, {
      transport: this.#channel,
      legacy: "reject",
      onerror: options.onerror,
    });
  }

  /**
   * Hands one of the client's messages to the server. Once the entry has pinned the server, an
   * ordinary request goes straight to the server's channel, as the entry would pass it on: the
   * entry takes a connection's messages one at a time, a few ticks apart, so that the answers to
   * requests that arrived together would leave in separate sends. (A `subscriptions/listen` still
   * queued in the entry can thus be overtaken by a later request; a client relies on its
   * subscription once acknowledged, as the SDK's `listen()` does.)
   */
  deliver(message: JSONRPCMessage): Promise<void> {
    const id = requestIdOf(message);
    if (id !== undefined && !ENTRY_METHODS.has(methodOf(message)!)) {
      const instance = this.#pinned && !this.#closing ? instanceChannel(this.server) : undefined;
      if (instance) {
        try {
          instance.deliver(message);
        } catch (error) {
          // As the entry answers a request whose delivery threw.
          this.#onerror(error instanceof Error ? error : new Error(String(error)));
          return this.#channel.send(errorResponse(id, {
            code: JSONRPC_ERROR.INTERNAL_ERROR,
            message: "Internal server error",
          }));
        }
        return Promise.resolve();
      }
      if (!this.#pinned) this.#opening.add(id);
    }
    return this.#channel.deliver(message);
  }

  /** Closes the server and the connection; open subscriptions are answered first. Idempotent. */
  close(): Promise<void> {
    this.#closing = true;
    return this.#handle.close();
  }
}

/**
 * The channel the entry connected `server` to, when it has a `deliver` of its own. Not public SDK
 * API (SDK 2.4.0's stdio connection channel): should a release drop it, requests take the entry's
 * path again, answered alike but batched worse, which the test of answers leaving in one batch
 * (tests/stateless_server_reuse_test.ts) notices.
 */
function instanceChannel(server: McpServerV2): InstanceChannel | undefined {
  const channel = lowLevelServer(server).transport as Partial<InstanceChannel> | undefined;
  return typeof channel?.deliver === "function" ? channel as InstanceChannel : undefined;
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

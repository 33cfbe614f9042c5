/**
 * The client side of Streamable HTTP with webhooks: the SDK's Streamable HTTP client transport
 * (SDK v2's, which speaks both the 2025-11-25 sessions and stateless 2026-07-28), plus a webhook
 * receiver for the results of the server's webhook tools.
 *
 * @module
 */

import {
  isJSONRPCErrorResponse,
  SdkHttpError,
  StreamableHTTPClientTransport,
  type StreamableHTTPClientTransportOptions,
} from "@modelcontextprotocol/client";
import { noRedirectFetch } from "../http/no_redirect.ts";
import type {
  JSONRPCMessage,
  MessageExtraInfo,
  RequestId,
  Transport,
  TransportSendOptions,
} from "../../sdk.ts";
import {
  errorResponse,
  JSONRPC_ERROR,
  methodOf,
  modernRevisionOf,
  requestIdOf,
} from "../../session/envelope.ts";
import { HEADER } from "../../session/envelope_codec.ts";
import type { InboxDelivery } from "../../session/inbox.ts";
import { consoleLogger, describeError, type Logger } from "../../session/logger.ts";
import type { ReplyRoute, ReplyRouter } from "../../session/reply_router.ts";
import { withMeta } from "../../session/return_address.ts";
import { UNDELIVERED_METHOD } from "./webhook_call_router.ts";
import type { WebhookListenOptions, WebhookReceiver } from "../webhook/webhook_receiver.ts";
import { webhookReceiving, type WebhookReceivingOptions } from "../webhook/webhook_receiving.ts";
import { WEBHOOK_RETURN_ADDRESS } from "../webhook/webhook_server.ts";

/** Options for {@linkcode StreamableHttpWebhookClientTransport}. */
export interface StreamableHttpWebhookClientTransportOptions extends WebhookReceivingOptions {
  /** The server's Streamable HTTP endpoint. */
  serverUrl: string | URL;
  /** Options for the SDK's Streamable HTTP client transport (headers, fetch, reconnection, auth). */
  http?: StreamableHTTPClientTransportOptions;
}

/**
 * Connects the SDK `Client` to a {@linkcode StreamableHttpWebhookServer}: quick calls are
 * answered on the HTTP stream as usual, webhook tools' results arrive at the webhook and are
 * matched to their pending calls. A result the webhook did not take comes on the session's
 * stream instead and is unwrapped here, so the client sees it either way.
 *
 * @example Connect a client that receives webhook results on its own receiver
 * ```ts ignore
 * import { Client } from "@asyncmcp/asyncmcp/sdk";
 * import { StreamableHttpWebhookClientTransport } from "@asyncmcp/asyncmcp/streamable-http-webhook";
 *
 * const client = new Client({ name: "example-client", version: "1.0.0" });
 * await client.connect(
 *   new StreamableHttpWebhookClientTransport({
 *     serverUrl: "https://mcp.example.com/mcp",
 *     webhookUrl: "https://client.example.com/webhook",
 *     listen: { hostname: "0.0.0.0", port: 8080 },
 *     perSessionSecret: true,
 *   }),
 * );
 * ```
 */
export class StreamableHttpWebhookClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  /** The web-standard handler for the server's deliveries: mount it at `webhookUrl`. */
  readonly handleWebhook: (request: Request) => Promise<Response>;

  readonly #inner: StreamableHTTPClientTransport;
  readonly #receiver: WebhookReceiver;
  readonly #ownReceiver: boolean;
  readonly #listen?: WebhookListenOptions;
  readonly #secret?: string;
  readonly #logger: Logger;
  readonly #route: ReplyRoute;
  #webhookUrl?: string;
  #replies?: ReplyRouter;
  #closed = false;
  /** Ids of the stateless requests being sent, whose refusals become their answers. */
  readonly #statelessInFlight = new Set<RequestId>();

  /** Creates the transport; the SDK client starts it in `connect()`. */
  constructor(options: StreamableHttpWebhookClientTransportOptions) {
    const receiving = webhookReceiving(options);
    this.#secret = receiving.sessionSecret;
    this.#receiver = receiving.receiver;
    this.#ownReceiver = receiving.ownReceiver;
    this.#listen = receiving.listen;
    this.#webhookUrl = receiving.webhookUrl;
    this.#logger = options.logger ?? consoleLogger();
    const userFetch = options.http?.fetch as ((request: Request) => Promise<Response>) | undefined;
    const clientId = crypto.randomUUID();
    const headers = new Headers(options.http?.requestInit?.headers);
    // Deliveries for a stateless request have no session to be routed by: the server echoes this.
    headers.set(HEADER.CLIENT_ID, clientId);
    this.#inner = new StreamableHTTPClientTransport(new URL(options.serverUrl), {
      ...options.http,
      requestInit: { ...options.http?.requestInit, headers },
      // A redirect would carry initialize, with its webhook secret, to another origin.
      fetch: noRedirectFetch(userFetch),
    });
    this.#inner.onclose = () => this.onclose?.();
    this.#inner.onerror = (error) => {
      // A refusal that answers a stateless request reaches the caller as that answer (see send),
      // not as a failure too; every other failure is reported.
      const answer = refusalAnswer(error);
      if (answer === undefined || !this.#statelessInFlight.has(answer.id)) this.onerror?.(error);
    };
    this.#inner.onmessage = (message: JSONRPCMessage) => this.#fromStream(message);
    this.handleWebhook = this.#receiver.fetch;
    const sessionId = () => this.#inner.sessionId;
    this.#route = {
      clientId,
      get sessionId() {
        return sessionId();
      },
      pendingInitializeId: undefined,
      deliver: (delivery) => this.#fromWebhook(delivery),
      fail: (error) => this.onerror?.(error),
      unverified: (id, reason) => {
        // The call whose answer was refused fails now, with the reason, not at its timeout.
        this.onerror?.(new Error(reason));
        if (id !== undefined && !this.#closed) {
          this.onmessage?.(
            errorResponse(id, { code: JSONRPC_ERROR.INTERNAL_ERROR, message: reason }),
          );
        }
      },
    };
  }

  /** The session id the server chose, once `initialize` has been answered. */
  get sessionId(): string | undefined {
    return this.#inner.sessionId;
  }

  /** The URL the server delivers to, once known. */
  get webhookUrl(): string | undefined {
    return this.#webhookUrl;
  }

  /** Starts the receiver (when asked to listen) and the HTTP transport. */
  async start(): Promise<void> {
    if (this.#listen) this.#webhookUrl ??= await this.#receiver.listen(this.#listen);
    this.#replies = this.#receiver.replies;
    await this.#replies.attach(this.#route);
    try {
      await this.#inner.start();
    } catch (error) {
      await this.#stopReceiving();
      throw error;
    }
  }

  /**
   * Whether cancelling a request aborts its HTTP exchange (stateless 2026-07-28 requests), as the
   * SDK's transport says.
   */
  get hasPerRequestStream(): boolean {
    return this.#inner.hasPerRequestStream;
  }

  /**
   * Sends over HTTP; `initialize` and every stateless request carry the webhook URL (and the
   * session's secret).
   */
  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const stateless = requestIdOf(message) !== undefined &&
      modernRevisionOf(message) !== undefined;
    if (stateless || methodOf(message) === "initialize") {
      message = withMeta(message, {
        [WEBHOOK_RETURN_ADDRESS.meta]: this.#webhookUrl!,
        ...(this.#secret ? { [WEBHOOK_RETURN_ADDRESS.secret]: this.#secret } : {}),
      });
    }
    const id = requestIdOf(message);
    if (stateless) this.#statelessInFlight.add(id!);
    try {
      await this.#inner.send(message, options);
    } catch (error) {
      // The SDK's transport hands a 2026-07-28 refusal on as the answer for HTTP 400 only; the
      // binding answers an unknown method with 404, whose body answers the request all the same.
      const answer = refusalAnswer(error);
      if (!stateless || answer === undefined || answer.id !== id) throw error;
      this.onmessage?.(answer);
    } finally {
      if (stateless) this.#statelessInFlight.delete(id!);
    }
  }

  /** Passes on the negotiated protocol version, sent as `MCP-Protocol-Version`. */
  setProtocolVersion(version: string): void {
    this.#inner.setProtocolVersion(version);
  }

  /** The protocol version the SDK client settled on, once it has. */
  get protocolVersion(): string | undefined {
    return this.#inner.protocolVersion;
  }

  /** Ends the session on the server (DELETE), stops receiving and closes. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#inner.sessionId !== undefined) {
      try {
        await this.#inner.terminateSession();
      } catch (error) {
        // The server ends idle sessions itself: closing must not fail for this.
        this.#logger.log("warn", "session.end_failed", {
          sessionId: this.#inner.sessionId,
          error: describeError(error),
        });
      }
    }
    try {
      await this.#inner.close();
    } finally {
      await this.#stopReceiving();
    }
  }

  async #stopReceiving(): Promise<void> {
    await this.#replies?.detach(this.#route);
    if (this.#ownReceiver) await this.#receiver.close();
  }

  #fromStream(message: JSONRPCMessage): void {
    if (methodOf(message) === UNDELIVERED_METHOD) {
      // The webhook did not take it: the server sent it on the session's stream instead.
      const inner = (message as { params?: { message?: JSONRPCMessage } }).params?.message;
      if (inner) this.onmessage?.(inner);
      return;
    }
    this.onmessage?.(message);
  }

  #fromWebhook(delivery: InboxDelivery): void {
    delivery.ack();
    if (this.#closed) return;
    const { incoming } = delivery;
    if (!incoming.ok) {
      this.onerror?.(
        new SyntaxError(`Cannot read webhook delivery: ${incoming.invalid.error.message}`),
      );
      return;
    }
    this.onmessage?.(incoming.envelope.message);
  }
}

/** The statuses with which the 2026-07-28 HTTP binding refuses a request it read (-32601: 404). */
const REFUSAL_STATUSES = new Set([400, 404]);

/**
 * The JSON-RPC error response an HTTP refusal of the SDK's transport carries as its body (the
 * server refusing a request with 400 or 404), or undefined when it carries none.
 */
function refusalAnswer(error: unknown): (JSONRPCMessage & { id: RequestId }) | undefined {
  // The binding's refusals only: 401, 403, 413 or 429 keep their HTTP meaning for the caller.
  if (!(error instanceof SdkHttpError) || !REFUSAL_STATUSES.has(error.status)) return undefined;
  const text = (error.data as { text?: unknown } | undefined)?.text;
  if (typeof text !== "string") return undefined;
  try {
    const parsed = JSON.parse(text);
    return isJSONRPCErrorResponse(parsed) && parsed.id !== undefined
      ? parsed as JSONRPCMessage & { id: RequestId }
      : undefined;
  } catch {
    return undefined;
  }
}

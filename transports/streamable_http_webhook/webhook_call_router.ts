/**
 * The MCP server's transport for one Streamable HTTP session with a webhook: it sits between the
 * server and the SDK's Streamable HTTP transport and sends what belongs to webhook-delivered tool
 * calls (their results, and the notifications and requests tied to them) to the webhook instead.
 *
 * @module
 */

import type {
  JSONRPCMessage,
  MessageExtraInfo,
  RequestId,
  Transport,
  TransportSendOptions,
} from "../../sdk.ts";
import { isResponse, methodOf, requestIdOf } from "../../session/envelope.ts";
import { describeError, type Logger } from "../../session/logger.ts";
import { promiseWithResolvers } from "../../session/runtime.ts";
import { DELIVERY_META_KEY, markedTools, withWebhookMarks } from "./webhook_tool_marks.ts";

export { DELIVERY_META_KEY };

/**
 * The notification that carries a webhook-bound message the webhook did not take: sent on the
 * session's GET stream (and kept in its event store) so that the client still gets it.
 *
 * @example
 * ```ts
 * import { UNDELIVERED_METHOD } from "@asyncmcp/asyncmcp/streamable-http-webhook";
 *
 * console.log(UNDELIVERED_METHOD); // "notifications/asyncmcp/undelivered"
 * ```
 */
export const UNDELIVERED_METHOD = "notifications/asyncmcp/undelivered";

/** Options for {@linkcode WebhookCallRouter}. */
export interface WebhookCallRouterOptions {
  /** Tool names whose results go by webhook, besides those marked in their definition. */
  webhookTools: ReadonlySet<string>;
  /** Whether the session has a webhook; without one, everything stays on the HTTP streams. */
  hasWebhook: boolean;
  /** Delivers one message to the session's webhook; rejects when delivery finally failed. */
  deliver(message: JSONRPCMessage): Promise<void>;
  /** Where failures are logged. */
  logger: Logger;
}

const INTERNAL_ID_PREFIX = "asyncmcp-tools-";

/**
 * Wraps the SDK transport of one session (`inner`): the MCP server connects to this router,
 * and everything not tied to a webhook call passes through unchanged.
 * `StreamableHttpWebhookServer` makes one per session; build one yourself only to put
 * webhook calls on a Streamable HTTP server of your own.
 *
 * @example Route one session's webhook calls
 * ```ts
 * import { McpServer, WebStandardStreamableHTTPServerTransport } from "@asyncmcp/asyncmcp/sdk";
 * import { WebhookCallRouter } from "./webhook_call_router.ts";
 * import { WebhookOutbox } from "@asyncmcp/asyncmcp/webhook";
 * import { consoleLogger } from "@asyncmcp/asyncmcp/session";
 *
 * const outbox = new WebhookOutbox();
 * const transport = new WebStandardStreamableHTTPServerTransport({
 *   sessionIdGenerator: () => crypto.randomUUID(),
 * });
 * const router: WebhookCallRouter = new WebhookCallRouter(transport, {
 *   webhookTools: new Set(["build_report"]),
 *   hasWebhook: true,
 *   deliver: (message): Promise<void> =>
 *     outbox.send("https://client.example.com/webhook", { message, sessionId: router.sessionId }),
 *   logger: consoleLogger(),
 * });
 * await new McpServer({ name: "example", version: "1.0.0" }).connect(router);
 * ```
 */
export class WebhookCallRouter implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  readonly #inner: Transport;
  readonly #options: WebhookCallRouterOptions;
  /** Webhook calls whose answer has not been sent yet. */
  readonly #calls = new Set<RequestId>();
  /** Client tools/list requests, whose answers are marked. */
  readonly #listings = new Set<RequestId>();
  /** Tools marked in their own definition, as learned from the server's tools/list. */
  readonly #marked = new Set<string>();
  /** This router's own tools/list requests to the server, by id. */
  readonly #internal = new Map<string, (answer: JSONRPCMessage | Error) => void>();
  #nextInternalId = 0;
  #learning: Promise<void> = Promise.resolve();

  /** Routes for the session of `inner`. */
  constructor(inner: Transport, options: WebhookCallRouterOptions) {
    this.#inner = inner;
    this.#options = options;
    inner.onclose = () => {
      this.#abandonAsks();
      this.onclose?.();
    };
    inner.onerror = (error) => this.onerror?.(error);
    inner.onmessage = (message, extra) => this.#receive(message, extra);
  }

  /** The session id, once the SDK transport has made one. */
  get sessionId(): string | undefined {
    return this.#inner.sessionId;
  }

  /** Starts the SDK transport. */
  start(): Promise<void> {
    return this.#inner.start();
  }

  /** Closes the SDK transport. */
  close(): Promise<void> {
    this.#abandonAsks();
    return this.#inner.close();
  }

  #abandonAsks(): void {
    for (const settle of [...this.#internal.values()]) settle(new Error("Session closed"));
  }

  /**
   * Whether a request answers by webhook: a `tools/call` of a webhook tool, or a `tasks/result`
   * (which waits for its task to end). Waits for the server's tool list while it is being
   * learned, so that a call right after `initialize` is routed like any other.
   */
  async answersByWebhook(request: JSONRPCMessage): Promise<boolean> {
    if (!this.#options.hasWebhook) return false;
    const method = methodOf(request);
    if (method === "tasks/result") return true;
    if (method !== "tools/call") return false;
    const name = (request as { params?: { name?: unknown } }).params?.name;
    if (typeof name !== "string") return false;
    await this.#learning;
    return this.#options.webhookTools.has(name) || this.#marked.has(name);
  }

  /** Hands a webhook call to the server; its answer will go to the webhook. */
  acceptCall(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    const id = requestIdOf(message);
    if (id !== undefined) this.#calls.add(id);
    this.onmessage?.(message, extra);
  }

  /** Sends a message from the server: to the webhook when it belongs to a webhook call. */
  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const id = isResponse(message) ? idOf(message) : undefined;
    if (id !== undefined && typeof id === "string" && this.#internal.has(id)) {
      this.#internal.get(id)!(message);
      return;
    }
    if (id !== undefined && this.#calls.delete(id)) return this.#toWebhook(message);
    const related = options?.relatedRequestId;
    if (related !== undefined && this.#calls.has(related)) return this.#toWebhook(message);
    if (id !== undefined && this.#listings.delete(id)) message = this.#markTools(message);
    const method = methodOf(message);
    if (method === "notifications/tools/list_changed") this.#learnTools();
    // Pushed, so that a client waits for its tasks without polling.
    if (method === "notifications/tasks/status" && this.#options.hasWebhook) {
      return this.#toWebhook(message);
    }
    await this.#inner.send(message, options);
  }

  #receive(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    const method = methodOf(message);
    if (method === "tools/list") {
      const id = requestIdOf(message);
      if (id !== undefined) this.#listings.add(id);
    }
    this.onmessage?.(message, extra);
    // Asked only once the session is set up: the server answers tools/list from then on.
    if (method === "notifications/initialized") this.#learnTools();
  }

  async #toWebhook(message: JSONRPCMessage): Promise<void> {
    try {
      await this.#options.deliver(message);
    } catch (error) {
      // Not lost: the session's own stream carries it, and its event store keeps it.
      this.#options.logger.log("warn", "webhook.fallback_to_stream", {
        sessionId: this.sessionId,
        id: idOf(message),
        method: methodOf(message),
        error: describeError(error),
      });
      await this.#inner.send({
        jsonrpc: "2.0",
        method: UNDELIVERED_METHOD,
        params: { message, reason: describeError(error) },
      });
    }
  }

  /** Marks webhook tools in a tools/list result the server sent, learning the marked ones. */
  #markTools(message: JSONRPCMessage): JSONRPCMessage {
    for (const name of markedTools(message)) this.#marked.add(name);
    return withWebhookMarks(message, this.#options.webhookTools);
  }

  /** Asks the server for its tools (every page) to learn which ones are marked. */
  #learnTools(): void {
    const learn = async () => {
      let cursor: string | undefined;
      const marked = new Set<string>();
      do {
        const answer = await this.#ask("tools/list", cursor === undefined ? {} : { cursor });
        if (!("result" in answer)) return; // No tools capability: nothing to learn.
        const { tools, nextCursor } = answer.result as {
          tools?: Array<{ name: string; _meta?: Record<string, unknown> }>;
          nextCursor?: string;
        };
        for (const tool of tools ?? []) {
          if (tool._meta?.[DELIVERY_META_KEY] === "webhook") marked.add(tool.name);
        }
        cursor = nextCursor;
      } while (cursor);
      this.#marked.clear();
      for (const name of marked) this.#marked.add(name);
    };
    this.#learning = this.#learning.then(learn).catch((error) => {
      this.#options.logger.log("warn", "webhook.tools_unknown", {
        sessionId: this.sessionId,
        error: describeError(error),
      });
    });
  }

  #ask(method: string, params: Record<string, unknown>): Promise<JSONRPCMessage> {
    const id = `${INTERNAL_ID_PREFIX}${this.#nextInternalId++}`;
    const { promise, resolve, reject } = promiseWithResolvers<JSONRPCMessage>();
    // A server that never answers must not hold up the session's tool calls.
    const timer = setTimeout(() => settle(new Error(`No answer to ${method} in 10 s`)), 10_000);
    const settle = (answer: JSONRPCMessage | Error) => {
      clearTimeout(timer);
      this.#internal.delete(id);
      if (answer instanceof Error) reject(answer);
      else resolve(answer);
    };
    this.#internal.set(id, settle);
    this.onmessage?.({ jsonrpc: "2.0", id, method, params });
    return promise;
  }
}

/** The id of a request or response. */
function idOf(message: JSONRPCMessage): RequestId | undefined {
  return "id" in message ? message.id : undefined;
}

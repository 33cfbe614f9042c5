/**
 * Streamable HTTP with webhooks for long-running tools: a standard MCP endpoint (the SDK's
 * web-standard transport, one per session) whose chosen tools answer by webhook, so that their
 * HTTP exchange ends at once instead of holding a stream open for the whole job.
 *
 * @module
 */

import type { ServerEventBus } from "@modelcontextprotocol/server";
import type { JSONRPCMessage, MessageExtraInfo } from "../../sdk.ts";
import type { AddressPolicy } from "../../session/address_policy.ts";
import { HEADER } from "../../session/envelope_codec.ts";
import { checkJsonRpc, JSONRPC_ERROR, requestIdOf } from "../../session/envelope.ts";
import { consoleLogger, type Logger } from "../../session/logger.ts";
import { readReturnAddress, takeReturnSecret } from "../../session/return_address.ts";
import type { ConnectableServer, ServerFactoryContext } from "../../session/session_host.ts";
import { StatelessWebhookCalls } from "./stateless_webhook_calls.ts";
import { jsonRpcErrorResponse } from "../http/http_message.ts";
import {
  DEFAULT_MAX_BODY_BYTES,
  type EndpointAdmission,
  type EndpointSession,
  refuseHeaders,
  StreamableHttpEndpoint,
  type StreamableHttpEndpointOptions,
} from "../http/streamable_http_endpoint.ts";
import { vetOf, webhookUrlPolicy } from "../webhook/webhook_address_policy.ts";
import { WebhookCallRouter } from "./webhook_call_router.ts";
import { WebhookOutbox, type WebhookOutboxOptions } from "../webhook/webhook_outbox.ts";
import { unusableSessionSecret, WEBHOOK_RETURN_ADDRESS } from "../webhook/webhook_server.ts";

/** Options for {@linkcode StreamableHttpWebhookServer}. */
export interface StreamableHttpWebhookServerOptions
  extends WebhookOutboxOptions, StreamableHttpEndpointOptions {
  /**
   * Makes the MCP server for a new 2025-11-25 session and, when it is an SDK v2 server, for each
   * stateless 2026-07-28 request (an `McpServer` or a low-level `Server`); `context.era` says
   * which.
   */
  createServer: (context: ServerFactoryContext) => ConnectableServer | Promise<ConnectableServer>;
  /**
   * Tools whose results go to the session's webhook (besides tools whose definition sets
   * `_meta["asyncmcp/delivery"]` to `"webhook"`).
   */
  webhookTools?: Iterable<string>;
  /**
   * Which webhook URLs may be delivered to.
   * @default {webhookUrlPolicy()} (http and https only; no loopback, private, link-local or metadata address)
   */
  addressPolicy?: AddressPolicy;
  /**
   * Where the application announces that a list or a resource changed (the SDK v2's
   * `ServerEventBus`): each event goes to every open 2026-07-28 `subscriptions/listen` stream of
   * this server, as `createMcpHandler`'s `bus` option does. Without it no change can be announced to
   * them, since every 2026-07-28 request gets a server of its own.
   */
  bus?: ServerEventBus;
  /** How long `close()` waits for deliveries still being retried, in ms. @default {10_000} */
  closeTimeoutMs?: number;
  /** Where events are logged. @default {consoleLogger()} */
  logger?: StreamableHttpEndpointOptions["logger"];
}

/**
 * Serves MCP over Streamable HTTP (spec 2025-11-25) with webhook delivery for chosen tools. Its
 * {@linkcode StreamableHttpWebhookServer.fetch} handler runs on `Deno.serve`, `deno serve`, Deno
 * Deploy or any fetch-style router. A client that names a `webhookUrl` in `initialize`'s
 * `_meta` gets the results of the webhook tools there (signed, ordered, retried); their POST is
 * answered at once with an empty event stream. Everything else is plain Streamable HTTP.
 *
 * @example Serve on Deno.serve, with one tool answered by webhook
 * ```ts ignore
 * import { McpServer } from "@asyncmcp/asyncmcp/sdk";
 * import { StreamableHttpWebhookServer } from "@asyncmcp/asyncmcp/streamable-http-webhook";
 *
 * const server = new StreamableHttpWebhookServer({
 *   createServer: () => new McpServer({ name: "example", version: "1.0.0" }),
 *   webhookTools: ["report"],
 *   signingKey: Deno.env.get("WEBHOOK_SECRET"),
 * });
 * Deno.serve({ hostname: "127.0.0.1", port: 8000 }, server.fetch);
 * ```
 */
export class StreamableHttpWebhookServer {
  readonly #options: StreamableHttpWebhookServerOptions;
  readonly #outbox: WebhookOutbox;
  readonly #addressPolicy: AddressPolicy;
  readonly #webhookTools: ReadonlySet<string>;
  readonly #endpoint: StreamableHttpEndpoint;
  readonly #stateless: StatelessWebhookCalls;
  readonly #logger: Logger;

  /**
   * Validates the options.
   *
   * @throws {RangeError} when a limit is not positive.
   */
  constructor(options: StreamableHttpWebhookServerOptions) {
    this.#options = options;
    const logger = options.logger ?? consoleLogger();
    this.#addressPolicy = options.addressPolicy ?? webhookUrlPolicy();
    this.#outbox = new WebhookOutbox({ vet: vetOf(this.#addressPolicy), ...options, logger });
    this.#webhookTools = new Set(options.webhookTools ?? []);
    this.#logger = logger;
    this.#stateless = new StatelessWebhookCalls({
      createServer: options.createServer,
      webhookTools: this.#webhookTools,
      checkWebhook: (url, secret) => this.#checkWebhook(url, secret),
      outbox: this.#outbox,
      bus: options.bus,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      logger,
    });
    this.#endpoint = new StreamableHttpEndpoint(
      { ...options, logger },
      (initialize) => this.#admit(initialize),
      (request, body) => this.#stateless.fetch(request, body),
    );
  }

  /** How many sessions are open. */
  get sessionCount(): number {
    return this.#endpoint.sessionCount;
  }

  /**
   * The web-standard handler for `POST`, `GET` and `DELETE` on the MCP endpoint. Bound to the
   * server, so it can be passed around as a plain function.
   */
  readonly fetch = (request: Request): Promise<Response> => this.#endpoint.fetch(request);

  /** Ends every session and waits up to `closeTimeoutMs` for deliveries under way. Idempotent. */
  async close(): Promise<void> {
    await this.#endpoint.close();
    await this.#stateless.close();
    const timer = setTimeout(() => this.#outbox.abort(), this.#options.closeTimeoutMs ?? 10_000);
    try {
      await this.#outbox.close();
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Takes the webhook secret out of `initialize`, checks the webhook it names, and serves the
   * session with the MCP server behind a router that sends webhook calls' answers out.
   */
  async #admit(body: JSONRPCMessage): Promise<Response | EndpointAdmission> {
    const { message, secret } = takeReturnSecret(body, WEBHOOK_RETURN_ADDRESS);
    const webhookUrl = readReturnAddress(message, WEBHOOK_RETURN_ADDRESS);
    if (webhookUrl !== undefined) {
      const refusal = await this.#checkWebhook(webhookUrl, secret);
      if (refusal) {
        return jsonRpcErrorResponse(400, {
          code: JSONRPC_ERROR.INVALID_PARAMS,
          message: refusal,
        }, requestIdOf(body) ?? null);
      }
    }
    return {
      initialize: message,
      open: async (transport): Promise<EndpointSession> => {
        const router: WebhookCallRouter = new WebhookCallRouter(transport, {
          webhookTools: this.#webhookTools,
          hasWebhook: webhookUrl !== undefined,
          logger: this.#logger,
          deliver: (delivered) =>
            this.#outbox.send(webhookUrl!, { message: delivered, sessionId: router.sessionId }, {
              secret,
            }),
        });
        const server = await this.#options.createServer({ era: "legacy" });
        await server.connect(router);
        return {
          close: () => server.close(),
          intercept: (request, intercepted) => this.#intercept(request, router, intercepted),
        };
      },
    };
  }

  /** Why `webhookUrl` (and its secret) cannot be used, or undefined when they can. */
  async #checkWebhook(webhookUrl: string, secret: string | undefined): Promise<string | undefined> {
    const secretProblem = unusableSessionSecret(secret);
    if (secretProblem) return secretProblem;
    const verdict = await this.#addressPolicy(webhookUrl);
    if (verdict === true) return undefined;
    return `Invalid params: _meta.${WEBHOOK_RETURN_ADDRESS.meta} ${webhookUrl} is refused${
      typeof verdict === "string" ? `: ${verdict}` : " by this server's address policy"
    }`;
  }

  /**
   * Hands a request that answers by webhook to the server and ends its HTTP exchange: an event
   * stream that closes at once, without an event id, so that clients do not reconnect to wait.
   */
  async #intercept(
    request: Request,
    router: WebhookCallRouter,
    body: unknown,
  ): Promise<Response | undefined> {
    // Most POSTs are not webhook calls: look at the method before validating the whole message,
    // which the SDK's transport does again for everything passed on.
    const method = (body as { method?: unknown } | null)?.method;
    if (method !== "tools/call" && method !== "tasks/result") return undefined;
    const parsed = checkJsonRpc(body);
    const id = parsed.ok ? requestIdOf(parsed.message) : undefined;
    if (!parsed.ok || id === undefined) return undefined;
    if (!await router.answersByWebhook(parsed.message)) return undefined;
    const refused = refuseHeaders(request, id);
    if (refused) return refused;
    const extra: MessageExtraInfo = {
      requestInfo: { headers: Object.fromEntries(request.headers), url: new URL(request.url) },
    };
    router.acceptCall(parsed.message, extra);
    return new Response(": the result of this call is delivered to the webhook\n\n", {
      headers: {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
        [HEADER.STANDARD_SESSION_ID]: router.sessionId!,
      },
    });
  }
}

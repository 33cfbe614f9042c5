/**
 * Streamable HTTP with webhooks for long-running tools: a standard MCP endpoint (the SDK's
 * web-standard transport, one per session) whose chosen tools answer by webhook, so that their
 * HTTP exchange ends at once instead of holding a stream open for the whole job.
 *
 * @module
 */

import {
  type EventStore,
  type JSONRPCMessage,
  type MessageExtraInfo,
  SUPPORTED_PROTOCOL_VERSIONS,
  WebStandardStreamableHTTPServerTransport,
} from "../sdk.ts";
import type { AddressPolicy } from "../session/address_policy.ts";
import { HEADER } from "../session/envelope_codec.ts";
import { checkJsonRpc, JSONRPC_ERROR, methodOf, requestIdOf } from "../session/envelope.ts";
import { consoleLogger, describeError, type Logger } from "../session/logger.ts";
import { readReturnAddress, takeReturnSecret } from "../session/return_address.ts";
import type { ConnectableServer } from "../session/session_host.ts";
import { hostGuard, type HostGuardOptions } from "./host_guard.ts";
import { jsonRpcErrorResponse, readMessageBody } from "./http_message.ts";
import { MemoryEventStore } from "./memory_event_store.ts";
import { webhookUrlPolicy } from "./webhook_address_policy.ts";
import { WebhookCallRouter } from "./webhook_call_router.ts";
import { WebhookOutbox, type WebhookOutboxOptions } from "./webhook_outbox.ts";
import { WEBHOOK_RETURN_ADDRESS } from "./webhook_server.ts";
import { WebhookSigningKey } from "./webhook_signature.ts";

/** Options for {@linkcode StreamableHttpWebhookServer}. */
export interface StreamableHttpWebhookServerOptions extends WebhookOutboxOptions, HostGuardOptions {
  /** Makes the MCP server for a new session (an `McpServer` or a low-level `Server`). */
  createServer: () => ConnectableServer | Promise<ConnectableServer>;
  /**
   * Tools whose results go to the session's webhook (besides tools whose definition sets
   * `_meta["asyncmcp/delivery"]` to `"webhook"`).
   */
  webhookTools?: Iterable<string>;
  /** Answer requests with one JSON body instead of an SSE stream. @default {false} */
  enableJsonResponse?: boolean;
  /**
   * Makes each session's event store, which lets clients resume a dropped SSE stream with
   * `Last-Event-ID`; `false` turns resumability off.
   * @default {() => new MemoryEventStore()}
   */
  eventStore?: (() => EventStore) | false;
  /** Suggested reconnection delay sent to clients in SSE `retry:` fields, in ms. */
  retryInterval?: number;
  /**
   * Which webhook URLs may be delivered to.
   * @default {webhookUrlPolicy()} (http and https only; no loopback, private, link-local or metadata address)
   */
  addressPolicy?: AddressPolicy;
  /** Largest request body accepted, in bytes; larger ones get 413. @default {4194304} (4 MiB) */
  maxBodyBytes?: number;
  /** Sessions open at once; `initialize` beyond it gets 503. @default {10_000} */
  maxSessions?: number;
  /** A session with no request for this long is ended. @default {1_800_000} (30 minutes) */
  idleTimeoutMs?: number;
  /** How long `close()` waits for deliveries still being retried, in ms. @default {10_000} */
  closeTimeoutMs?: number;
}

/** One client's session: the SDK transport, the router in front of the MCP server, and when it was last used. */
interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  router: WebhookCallRouter;
  server: ConnectableServer;
  webhookUrl?: string;
  lastSeen: number;
}

const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** The code the SDK's transport gives HTTP-level refusals (406, 400 for headers): kept alike. */
const HTTP_REFUSAL = -32000;

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
  readonly #guard: (request: Request) => Response | undefined;
  readonly #addressPolicy: AddressPolicy;
  readonly #webhookTools: ReadonlySet<string>;
  readonly #logger: Logger;
  readonly #maxBodyBytes: number;
  readonly #maxSessions: number;
  readonly #idleTimeoutMs: number;
  readonly #sessions = new Map<string, Session>();
  /** Sessions being set up (their `initialize` is under way), counted against the limit. */
  #opening = 0;
  #sweeper?: ReturnType<typeof setInterval>;
  #closed = false;

  /** Validates the options. */
  constructor(options: StreamableHttpWebhookServerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? consoleLogger();
    this.#outbox = new WebhookOutbox({ ...options, logger: this.#logger });
    this.#guard = hostGuard(options);
    this.#addressPolicy = options.addressPolicy ?? webhookUrlPolicy();
    this.#webhookTools = new Set(options.webhookTools ?? []);
    this.#maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.#maxSessions = options.maxSessions ?? 10_000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 1_800_000;
    for (
      const [name, value] of [["maxBodyBytes", this.#maxBodyBytes], [
        "maxSessions",
        this.#maxSessions,
      ], ["idleTimeoutMs", this.#idleTimeoutMs]] as const
    ) {
      if (!(value > 0)) {
        throw new RangeError(
          `Cannot create server as '${name}' must be positive: current value is ${value}`,
        );
      }
    }
  }

  /** How many sessions are open. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * The web-standard handler for `POST`, `GET` and `DELETE` on the MCP endpoint. Bound to the
   * server, so it can be passed around as a plain function.
   */
  readonly fetch = async (request: Request): Promise<Response> => {
    const refused = this.#guard(request);
    if (refused) {
      await request.body?.cancel();
      return refused;
    }
    if (this.#closed) {
      await request.body?.cancel();
      return jsonRpcErrorResponse(
        503,
        {
          code: JSONRPC_ERROR.SERVER_BUSY,
          message: "Server is shutting down: retry against another instance",
        },
        null,
        { "Retry-After": "1" },
      );
    }
    this.#sweepIdleSoon();
    if (request.method === "POST") return await this.#post(request);
    if (request.method === "GET" || request.method === "DELETE") {
      const session = this.#session(request);
      if (session) return await session.transport.handleRequest(request);
      await request.body?.cancel();
      return sessionNotFound(request);
    }
    await request.body?.cancel();
    return jsonRpcErrorResponse(
      405,
      {
        code: JSONRPC_ERROR.INVALID_REQUEST,
        message: `Method ${request.method} not allowed: use POST, GET or DELETE`,
      },
      null,
      { Allow: "POST, GET, DELETE" },
    );
  };

  /** Ends every session and waits up to `closeTimeoutMs` for deliveries under way. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    await Promise.all([...this.#sessions.values()].map((session) => this.#end(session)));
    const timer = setTimeout(() => this.#outbox.abort(), this.#options.closeTimeoutMs ?? 10_000);
    try {
      await this.#outbox.close();
    } finally {
      clearTimeout(timer);
    }
  }

  async #post(request: Request): Promise<Response> {
    const read = await readMessageBody(request, this.#maxBodyBytes);
    if (!read.ok) return read.response;
    let body: unknown;
    try {
      body = JSON.parse(read.body);
    } catch {
      return jsonRpcErrorResponse(400, {
        code: JSONRPC_ERROR.PARSE_ERROR,
        message: "Parse error: the body is not JSON; send one JSON-RPC message",
      });
    }
    if (isInitialize(body)) return await this.#initialize(request, body);
    const session = this.#session(request);
    if (!session) return sessionNotFound(request);
    const call = await this.#webhookCall(session, body);
    if (call) return this.#acceptWebhookCall(request, session, call);
    return await session.transport.handleRequest(request, { parsedBody: body });
  }

  async #initialize(request: Request, body: JSONRPCMessage): Promise<Response> {
    const id = requestIdOf(body) ?? null;
    if (request.headers.has(HEADER.STANDARD_SESSION_ID)) {
      return jsonRpcErrorResponse(400, {
        code: JSONRPC_ERROR.INVALID_REQUEST,
        message: "Invalid request: initialize starts a new session; send it without Mcp-Session-Id",
      }, id);
    }
    if (this.#sessions.size + this.#opening >= this.#maxSessions) {
      this.#logger.log("warn", "session.refused", { reason: "max_sessions" });
      return jsonRpcErrorResponse(
        503,
        {
          code: JSONRPC_ERROR.SERVER_BUSY,
          message:
            `Server busy: ${this.#maxSessions} sessions are open; retry later or close unused sessions`,
        },
        id,
        { "Retry-After": "5" },
      );
    }
    const { message, secret } = takeReturnSecret(body, WEBHOOK_RETURN_ADDRESS);
    const webhookUrl = readReturnAddress(message, WEBHOOK_RETURN_ADDRESS);
    if (webhookUrl !== undefined) {
      const refusal = await this.#checkWebhook(webhookUrl, secret);
      if (refusal) {
        return jsonRpcErrorResponse(
          400,
          { code: JSONRPC_ERROR.INVALID_PARAMS, message: refusal },
          id,
        );
      }
    }
    this.#opening++;
    try {
      return await this.#open(request, message, webhookUrl, secret);
    } finally {
      this.#opening--;
    }
  }

  async #open(
    request: Request,
    initialize: JSONRPCMessage,
    webhookUrl: string | undefined,
    secret: string | undefined,
  ): Promise<Response> {
    const { eventStore, enableJsonResponse, retryInterval } = this.#options;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      enableJsonResponse,
      retryInterval,
      eventStore: eventStore === false
        ? undefined
        : (eventStore ?? (() => new MemoryEventStore()))(),
      maxRequestBodySize: this.#maxBodyBytes,
      onsessioninitialized: (sessionId) => {
        this.#sessions.set(sessionId, session);
        this.#logger.log("info", "session.started", {
          sessionId,
          webhook: webhookUrl !== undefined,
        });
      },
      onsessionclosed: (sessionId) => {
        // DELETE: the SDK transport closes itself; the server goes with it.
        const ended = this.#sessions.get(sessionId);
        if (ended) void this.#end(ended);
      },
    });
    const router = new WebhookCallRouter(transport, {
      webhookTools: this.#webhookTools,
      hasWebhook: webhookUrl !== undefined,
      logger: this.#logger,
      deliver: (message) =>
        this.#outbox.send(webhookUrl!, { message, sessionId: transport.sessionId }, { secret }),
    });
    const server = await this.#options.createServer();
    // Named by the callbacks above, which run only once the transport handles initialize.
    const session: Session = { transport, router, server, webhookUrl, lastSeen: Date.now() };
    await server.connect(router);
    const response = await transport.handleRequest(request, { parsedBody: initialize });
    if (transport.sessionId === undefined) {
      // Refused before a session was made (406, 415, ...): nothing to keep.
      await server.close();
    }
    return response;
  }

  /** Why `webhookUrl` (and its secret) cannot be used, or undefined when they can. */
  async #checkWebhook(webhookUrl: string, secret: string | undefined): Promise<string | undefined> {
    if (secret !== undefined) {
      try {
        new WebhookSigningKey(secret);
      } catch (error) {
        return `Invalid params: _meta.${WEBHOOK_RETURN_ADDRESS.secret} is unusable: ${
          (error as Error).message
        }`;
      }
    }
    const verdict = await this.#addressPolicy(webhookUrl);
    if (verdict === true) return undefined;
    return `Invalid params: _meta.${WEBHOOK_RETURN_ADDRESS.meta} ${webhookUrl} is refused${
      typeof verdict === "string" ? `: ${verdict}` : " by this server's address policy"
    }`;
  }

  /** The request when it is one that answers by webhook (see `answersByWebhook`). */
  async #webhookCall(session: Session, body: unknown): Promise<JSONRPCMessage | undefined> {
    if (session.webhookUrl === undefined || Array.isArray(body)) return undefined;
    const parsed = checkJsonRpc(body);
    if (!parsed.ok || requestIdOf(parsed.message) === undefined) return undefined;
    return await session.router.answersByWebhook(parsed.message) ? parsed.message : undefined;
  }

  /**
   * Hands a webhook call to the server and ends its HTTP exchange: an event stream that closes
   * at once, without an event id, so that clients do not reconnect to wait for it.
   */
  #acceptWebhookCall(request: Request, session: Session, call: JSONRPCMessage): Response {
    const accept = request.headers.get("accept") ?? "";
    if (!accept.includes("application/json") || !accept.includes("text/event-stream")) {
      return jsonRpcErrorResponse(406, {
        code: HTTP_REFUSAL,
        message: "Not Acceptable: Client must accept both application/json and text/event-stream",
      }, requestIdOf(call) ?? null);
    }
    const version = request.headers.get(HEADER.STANDARD_PROTOCOL_VERSION);
    if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      return jsonRpcErrorResponse(400, {
        code: HTTP_REFUSAL,
        message: `Bad Request: Unsupported protocol version ${version} (supported versions: ${
          SUPPORTED_PROTOCOL_VERSIONS.join(", ")
        })`,
      }, requestIdOf(call) ?? null);
    }
    const extra: MessageExtraInfo = {
      requestInfo: { headers: Object.fromEntries(request.headers), url: new URL(request.url) },
    };
    session.router.acceptCall(call, extra);
    return new Response(": the result of this call is delivered to the webhook\n\n", {
      headers: {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
        [HEADER.STANDARD_SESSION_ID]: session.transport.sessionId!,
      },
    });
  }

  #session(request: Request): Session | undefined {
    const sessionId = request.headers.get(HEADER.STANDARD_SESSION_ID);
    const session = sessionId === null ? undefined : this.#sessions.get(sessionId);
    if (session) session.lastSeen = Date.now();
    return session;
  }

  async #end(session: Session): Promise<void> {
    const sessionId = session.transport.sessionId;
    if (sessionId === undefined || this.#sessions.get(sessionId) !== session) return;
    this.#sessions.delete(sessionId);
    try {
      await session.server.close();
    } catch (error) {
      this.#logger.log("warn", "session.close_failed", { sessionId, error: describeError(error) });
    }
    this.#logger.log("info", "session.ended", { sessionId });
  }

  /** Starts the idle sweep with the first request, so that a server never used holds no timer. */
  #sweepIdleSoon(): void {
    if (this.#sweeper !== undefined) return;
    const everyMs = Math.min(Math.max(this.#idleTimeoutMs / 4, 10), 60_000);
    const sweeper = setInterval(() => {
      const cutoff = Date.now() - this.#idleTimeoutMs;
      for (const session of this.#sessions.values()) {
        if (session.lastSeen < cutoff) void this.#end(session);
      }
    }, everyMs);
    // Housekeeping alone must not keep a process alive.
    Deno.unrefTimer(sweeper);
    this.#sweeper = sweeper;
  }
}

function isInitialize(body: unknown): body is JSONRPCMessage {
  return typeof body === "object" && body !== null && !Array.isArray(body) &&
    (body as { method?: unknown }).method === "initialize";
}

function sessionNotFound(request: Request): Response {
  const sessionId = request.headers.get(HEADER.STANDARD_SESSION_ID);
  if (sessionId === null) {
    return jsonRpcErrorResponse(400, {
      code: HTTP_REFUSAL,
      message: "Bad Request: Mcp-Session-Id header is required; send initialize to start a session",
    });
  }
  return jsonRpcErrorResponse(404, {
    code: JSONRPC_ERROR.SESSION_NOT_FOUND,
    message:
      `Session not found: ${sessionId} has ended or never existed; send initialize to start a new one`,
  });
}

/**
 * A Streamable HTTP endpoint with many sessions (spec 2025-11-25): one SDK web-standard transport
 * per session, created on `initialize`, found by `Mcp-Session-Id`, ended by DELETE, by idling or
 * on close; Host/Origin checked, bodies bounded, sessions counted. What serves each session (an
 * MCP server, a proxy's back end) is up to the caller.
 *
 * @module
 */

import {
  type EventStore,
  type JSONRPCMessage,
  type RequestId,
  SUPPORTED_PROTOCOL_VERSIONS,
  WebStandardStreamableHTTPServerTransport,
} from "../../sdk.ts";
import { isLegacyRequest } from "@modelcontextprotocol/server";
import { HEADER } from "../../session/envelope_codec.ts";
import { JSONRPC_ERROR, requestIdOf } from "../../session/envelope.ts";
import { consoleLogger, describeError, type Logger } from "../../session/logger.ts";
import { unrefTimer } from "../../session/runtime.ts";
import {
  type Authorize,
  FORBIDDEN_SESSION,
  type GateVerdict,
  requestGate,
} from "./authorization.ts";
import type { HostGuardOptions } from "./host_guard.ts";
import { jsonRpcErrorResponse, readMessageBody } from "./http_message.ts";
import { MemoryEventStore } from "./memory_event_store.ts";

/** Options for {@linkcode StreamableHttpEndpoint}. */
export interface StreamableHttpEndpointOptions extends HostGuardOptions {
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
  /** Largest request body accepted, in bytes; larger ones get 413. @default {4194304} (4 MiB) */
  maxBodyBytes?: number;
  /** Sessions open at once; `initialize` beyond it gets 503. @default {10_000} */
  maxSessions?: number;
  /** A session with no request for this long is ended. @default {1_800_000} (30 minutes) */
  idleTimeoutMs?: number;
  /** Where session events are logged. @default {consoleLogger()} */
  logger?: Logger;
  /**
   * Decides who sent each request (see `bearerTokenAuth`); a session then belongs to the
   * principal that created it and refuses every other one with 403. Without it, anyone who can
   * reach the endpoint is let in.
   */
  authorize?: Authorize;
}

/** What serves one session, as the endpoint's owner builds it. */
export interface EndpointSession {
  /** Ends what serves the session (the SDK transport is closed with it or after it). */
  close(): Promise<void>;
  /**
   * Takes a POST body before the SDK transport does, for requests answered another way; returns
   * the response, or undefined to let the SDK transport handle the request.
   */
  intercept?(request: Request, body: unknown): Promise<Response | undefined>;
}

/** An `initialize` the endpoint's owner accepted, and how to serve the session it starts. */
export interface EndpointAdmission {
  /** The `initialize` to go on with (for example without the client's secret). */
  initialize: JSONRPCMessage;
  /** Connects what serves the new session to its SDK transport (not yet started). */
  open(transport: WebStandardStreamableHTTPServerTransport): Promise<EndpointSession>;
}

/**
 * Checks an `initialize` before any session exists: a response refuses it (and nothing is
 * made); an admission says how to serve the session.
 */
export type EndpointAdmit = (initialize: JSONRPCMessage) => Promise<Response | EndpointAdmission>;

/**
 * Answers a stateless 2026-07-28 POST (one that names its protocol revision in `params._meta`,
 * or in `MCP-Protocol-Version`, and belongs to no session): `body` is the parsed body, `principal`
 * who sent it when requests are authorized.
 */
export type EndpointStateless = (
  request: Request,
  body: unknown,
  principal: string | undefined,
) => Promise<Response>;

/** One open session. */
interface Entry {
  transport: WebStandardStreamableHTTPServerTransport;
  session: EndpointSession;
  lastSeen: number;
  /** The principal that created it, when requests are authorized. */
  principal?: string;
}

/** The largest body the endpoint reads unless told otherwise, in bytes. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** The code the SDK's transport gives HTTP-level refusals (406, 400 for headers): kept alike. */
const HTTP_REFUSAL = -32000;

/**
 * The session-keeping half of a Streamable HTTP server: {@linkcode StreamableHttpWebhookServer}
 * and the proxy are built on it.
 *
 * @example Serve one McpServer per session
 * ```ts ignore
 * import { McpServer } from "@asyncmcp/asyncmcp/sdk";
 * import { StreamableHttpEndpoint } from "@asyncmcp/asyncmcp/streamable-http-webhook";
 *
 * const endpoint = new StreamableHttpEndpoint({}, (initialize) =>
 *   Promise.resolve({
 *     initialize,
 *     async open(transport) {
 *       const server = new McpServer({ name: "example", version: "1.0.0" });
 *       await server.connect(transport);
 *       return { close: () => server.close() };
 *     },
 *   }));
 * Deno.serve({ hostname: "127.0.0.1", port: 8000 }, endpoint.fetch);
 * ```
 */
export class StreamableHttpEndpoint {
  readonly #options: StreamableHttpEndpointOptions;
  readonly #admit: EndpointAdmit;
  readonly #stateless?: EndpointStateless;
  readonly #gate: (request: Request) => Promise<GateVerdict>;
  readonly #logger: Logger;
  readonly #maxBodyBytes: number;
  readonly #maxSessions: number;
  readonly #idleTimeoutMs: number;
  readonly #sessions = new Map<string, Entry>();
  /** Sessions being set up (their `initialize` is under way), counted against the limit. */
  #opening = 0;
  #sweeper?: ReturnType<typeof setInterval>;
  #closed = false;

  /**
   * Validates the options. `admit` opens 2025-11-25 sessions; `stateless`, when given, answers
   * 2026-07-28 requests (without it they are refused as sessionless).
   *
   * @throws {RangeError} when a limit is not positive.
   */
  constructor(
    options: StreamableHttpEndpointOptions,
    admit: EndpointAdmit,
    stateless?: EndpointStateless,
  ) {
    this.#options = options;
    this.#admit = admit;
    this.#stateless = stateless;
    this.#logger = options.logger ?? consoleLogger();
    this.#gate = requestGate(options);
    this.#maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.#maxSessions = options.maxSessions ?? 10_000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 1_800_000;
    const limits = {
      maxBodyBytes: this.#maxBodyBytes,
      maxSessions: this.#maxSessions,
      idleTimeoutMs: this.#idleTimeoutMs,
    };
    for (const [name, value] of Object.entries(limits)) {
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
   * endpoint, so it can be passed around as a plain function.
   */
  readonly fetch = async (request: Request): Promise<Response> => {
    const { refused, principal } = await this.#gate(request);
    if (refused) return refused;
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
    if (request.method === "POST") return await this.#post(request, principal);
    if (request.method === "GET" || request.method === "DELETE") {
      const entry = this.#entry(request);
      const refused = entry ? this.#foreign(entry, principal) : sessionNotFound(request);
      if (!refused) return await entry!.transport.handleRequest(request);
      await request.body?.cancel();
      return refused;
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

  /** Refuses new requests and ends every session. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    await Promise.all([...this.#sessions.values()].map((entry) => this.#end(entry)));
  }

  async #post(request: Request, principal: string | undefined): Promise<Response> {
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
    if (this.#stateless && !(await isLegacyRequest(request, body))) {
      return await this.#stateless(request, body, principal);
    }
    if (isInitialize(body)) return await this.#initialize(request, body, principal);
    const entry = this.#entry(request);
    if (!entry) return sessionNotFound(request);
    const foreign = this.#foreign(entry, principal);
    if (foreign) return foreign;
    const intercepted = await entry.session.intercept?.(request, body);
    return intercepted ?? await entry.transport.handleRequest(request, { parsedBody: body });
  }

  async #initialize(
    request: Request,
    body: JSONRPCMessage,
    principal: string | undefined,
  ): Promise<Response> {
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
    this.#opening++;
    try {
      const admitted = await this.#admit(body);
      if (admitted instanceof Response) return admitted;
      return await this.#open(request, admitted, principal);
    } finally {
      this.#opening--;
    }
  }

  async #open(
    request: Request,
    admission: EndpointAdmission,
    principal: string | undefined,
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
        this.#sessions.set(sessionId, entry);
        this.#logger.log("info", "session.started", { sessionId });
      },
      onsessionclosed: (sessionId) => {
        // DELETE: the SDK transport closes itself; what serves the session goes with it.
        const ended = this.#sessions.get(sessionId);
        if (ended) void this.#end(ended);
      },
    });
    const session = await admission.open(transport);
    // Named by the callbacks above, which run only once the transport handles initialize.
    const entry: Entry = { transport, session, lastSeen: Date.now(), principal };
    const response = await transport.handleRequest(request, {
      parsedBody: admission.initialize,
    });
    if (transport.sessionId === undefined) {
      // Refused before a session was made (406, 415, ...): nothing to keep.
      await session.close();
    }
    return response;
  }

  #entry(request: Request): Entry | undefined {
    const sessionId = request.headers.get(HEADER.STANDARD_SESSION_ID);
    const entry = sessionId === null ? undefined : this.#sessions.get(sessionId);
    if (entry) entry.lastSeen = Date.now();
    return entry;
  }

  /** The refusal of a request by a principal the session does not belong to, if it is one. */
  #foreign(entry: Entry, principal: string | undefined): Response | undefined {
    if (entry.principal === principal) return undefined;
    this.#logger.log("warn", "session.foreign_principal", {
      sessionId: entry.transport.sessionId,
      principal,
    });
    return jsonRpcErrorResponse(403, FORBIDDEN_SESSION);
  }

  async #end(entry: Entry): Promise<void> {
    const sessionId = entry.transport.sessionId;
    if (sessionId === undefined || this.#sessions.get(sessionId) !== entry) return;
    this.#sessions.delete(sessionId);
    try {
      await entry.session.close();
      await entry.transport.close();
    } catch (error) {
      this.#logger.log("warn", "session.close_failed", { sessionId, error: describeError(error) });
    }
    this.#logger.log("info", "session.ended", { sessionId });
  }

  /** Starts the idle sweep with the first request, so that an endpoint never used holds no timer. */
  #sweepIdleSoon(): void {
    if (this.#sweeper !== undefined) return;
    const everyMs = Math.min(Math.max(this.#idleTimeoutMs / 4, 10), 60_000);
    const sweeper = setInterval(() => {
      const cutoff = Date.now() - this.#idleTimeoutMs;
      for (const entry of this.#sessions.values()) {
        if (entry.lastSeen < cutoff) void this.#end(entry);
      }
    }, everyMs);
    // Housekeeping alone must not keep a process alive.
    unrefTimer(sweeper);
    this.#sweeper = sweeper;
  }
}

/**
 * The refusal of a request whose session has to be there: 406 when it does not accept an event
 * stream, 400 for an unsupported `MCP-Protocol-Version`; undefined when it may go on. For
 * requests an endpoint's owner answers itself, checked as the SDK's transport checks the rest.
 *
 * @example
 * ```ts
 * import { refuseHeaders } from "./streamable_http_endpoint.ts";
 *
 * const refused = refuseHeaders(new Request("http://127.0.0.1/mcp", { method: "POST" }), 1);
 * console.log(refused?.status); // 406
 * ```
 */
export function refuseHeaders(
  request: Request,
  id: RequestId | null,
  supportedVersions: readonly string[] = SUPPORTED_PROTOCOL_VERSIONS,
): Response | undefined {
  const accept = request.headers.get("accept") ?? "";
  if (!accept.includes("application/json") || !accept.includes("text/event-stream")) {
    return jsonRpcErrorResponse(406, {
      code: HTTP_REFUSAL,
      message: "Not Acceptable: Client must accept both application/json and text/event-stream",
    }, id);
  }
  const version = request.headers.get(HEADER.STANDARD_PROTOCOL_VERSION);
  if (version !== null && !supportedVersions.includes(version)) {
    return jsonRpcErrorResponse(400, {
      code: HTTP_REFUSAL,
      message: `Bad Request: Unsupported protocol version ${version} (supported versions: ${
        supportedVersions.join(", ")
      })`,
    }, id);
  }
  return undefined;
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

/**
 * The proxy's Streamable HTTP front end: standard MCP clients (desktop apps, IDEs, the MCP
 * Inspector) connect over Streamable HTTP, and each of their sessions is forwarded to a server
 * behind an asynchronous transport through a back-end session of its own.
 *
 * @module
 */

import type { Transport } from "../sdk.ts";
import { consoleLogger, type Logger } from "../session/logger.ts";
import { bearerTokenAuth } from "../transports/http/authorization.ts";
import {
  StreamableHttpEndpoint,
  type StreamableHttpEndpointOptions,
} from "../transports/http/streamable_http_endpoint.ts";
import { ProxySession, type ProxyWaitOptions } from "./proxy_session.ts";
import { StatelessForwarder } from "./stateless_forwarder.ts";

/** Options for {@linkcode StreamableHttpProxy}. */
export interface StreamableHttpProxyOptions
  extends StreamableHttpEndpointOptions, ProxyWaitOptions {
  /**
   * Makes the back-end transport of a new session (a client transport of any asyncmcp
   * transport). Back ends built on one SQS client and response queue, one reply topic or one
   * webhook receiver share it: a thousand sessions need no thousand queues.
   */
  backend: () => Transport | Promise<Transport>;
  /**
   * When set, every MCP request must carry `Authorization: Bearer <token>` (compared in constant
   * time; 401 otherwise). A shorthand for `authorize: bearerTokenAuth(token)`.
   */
  bearerToken?: string;
  /** Origins browsers may call from, with CORS headers that expose the MCP headers; `"*"` for any. */
  corsOrigins?: readonly string[] | "*";
  /** The path of the MCP endpoint; `/health` answers next to it. @default {"/mcp"} */
  path?: string;
}

const EXPOSED_HEADERS = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate";
const ALLOWED_HEADERS = "Content-Type, Accept, Authorization, Mcp-Session-Id, " +
  "MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID";

/**
 * A Streamable HTTP server whose sessions are forwarded to a back end. Its
 * {@linkcode StreamableHttpProxy.fetch} handler serves the MCP endpoint (`path`) and `/health`.
 *
 * @example Let Streamable HTTP clients reach an SQS server
 * ```ts ignore
 * import { SQSClient } from "npm:@aws-sdk/client-sqs";
 * import { StreamableHttpProxy } from "@asyncmcp/asyncmcp/proxy";
 * import { SqsClientTransport } from "@asyncmcp/asyncmcp/sqs";
 *
 * const sqs = new SQSClient({});
 * const proxy = new StreamableHttpProxy({
 *   backend: () =>
 *     new SqsClientTransport({
 *       sqs,
 *       requestQueueUrl: Deno.env.get("REQUEST_QUEUE_URL")!,
 *       responseQueueUrl: Deno.env.get("RESPONSE_QUEUE_URL")!,
 *     }),
 * });
 * Deno.serve({ hostname: "127.0.0.1", port: 3000 }, proxy.fetch);
 * ```
 */
export class StreamableHttpProxy {
  readonly #options: StreamableHttpProxyOptions;
  readonly #endpoint: StreamableHttpEndpoint;
  readonly #stateless: StatelessForwarder;
  readonly #logger: Logger;
  readonly #path: string;

  /**
   * Validates the options.
   *
   * @throws {RangeError} when `bearerToken` is shorter than 16 characters.
   * @throws {TypeError} when both `bearerToken` and `authorize` are given.
   */
  constructor(options: StreamableHttpProxyOptions) {
    this.#options = options;
    this.#logger = options.logger ?? consoleLogger();
    this.#path = options.path ?? "/mcp";
    if (options.bearerToken !== undefined && options.authorize !== undefined) {
      throw new TypeError(
        "Cannot use both 'bearerToken' and 'authorize': pass bearerTokenAuth(token) as authorize",
      );
    }
    const authorize = options.bearerToken === undefined
      ? options.authorize
      : bearerTokenAuth(options.bearerToken, { realm: "asyncmcp-proxy" });
    // Stateless 2026-07-28 requests each get a back-end request of their own, no session.
    const stateless = this.#stateless = new StatelessForwarder({
      backend: options.backend,
      requestTimeoutMs: options.requestTimeoutMs ?? 300_000,
      logger: this.#logger,
    });
    this.#endpoint = new StreamableHttpEndpoint(
      { ...options, authorize, logger: this.#logger },
      (initialize) =>
        Promise.resolve({
          initialize,
          open: async (transport) => {
            const proxy = new ProxySession(transport, await this.#options.backend(), {
              ...this.#options,
              relateToPending: !this.#options.enableJsonResponse,
              logger: this.#logger,
            });
            await proxy.start();
            return { close: () => proxy.close() };
          },
        }),
      (request, body) => stateless.fetch(request, body),
    );
  }

  /** How many front sessions (and so back-end sessions) are open. */
  get sessionCount(): number {
    return this.#endpoint.sessionCount;
  }

  /** The web-standard handler: the MCP endpoint at `path`, and `/health`. */
  readonly fetch = async (request: Request): Promise<Response> => {
    const { pathname } = new URL(request.url);
    if (request.method === "OPTIONS") {
      return this.#withCors(request, new Response(null, { status: 204 }));
    }
    if (pathname === "/health") {
      return this.#withCors(request, Response.json({ status: "ok", sessions: this.sessionCount }));
    }
    if (pathname !== this.#path) {
      await request.body?.cancel();
      return new Response(`Not found: the MCP endpoint is ${this.#path}\n`, { status: 404 });
    }
    return this.#withCors(request, await this.#endpoint.fetch(request));
  };

  /** Ends every session, front and back, and every stateless request in flight. */
  async close(): Promise<void> {
    await Promise.all([this.#endpoint.close(), this.#stateless.close()]);
  }

  #withCors(request: Request, response: Response): Response {
    const allowed = this.#options.corsOrigins;
    const origin = request.headers.get("origin");
    if (!allowed || origin === null) return response;
    if (allowed !== "*" && !allowed.includes(origin)) return response;
    const headers = new Headers(response.headers);
    headers.set("Access-Control-Allow-Origin", allowed === "*" ? "*" : origin);
    headers.set("Access-Control-Expose-Headers", EXPOSED_HEADERS);
    headers.set("Access-Control-Allow-Headers", ALLOWED_HEADERS);
    headers.set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
    if (allowed !== "*") headers.set("Vary", "Origin");
    return new Response(response.body, { status: response.status, headers });
  }
}

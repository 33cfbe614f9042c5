/**
 * The client side's webhook endpoint: verifies and accepts the server's deliveries and hands each
 * to the client transport it belongs to.
 *
 * @module
 */

import type { RequestId } from "../../sdk.ts";
import { decodeHeaders, routingOfHeaders } from "../../session/envelope_codec.ts";
import { JSONRPC_ERROR } from "../../session/envelope.ts";
import { consoleLogger, type Logger } from "../../session/logger.ts";
import { ReplyRouter } from "../../session/reply_router.ts";
import { type ServedFetch, serveFetch } from "../../session/runtime.ts";
import { HttpInbox } from "../http/http_inbox.ts";
import { jsonRpcErrorResponse, readMessageBody } from "../http/http_message.ts";
import {
  type SigningKeyInput,
  signingKeyOf,
  type VerifiedDelivery,
  WebhookVerificationError,
  WebhookVerifier,
  type WebhookVerifierOptions,
} from "./webhook_signature.ts";

/** Options for {@linkcode WebhookReceiver}. */
export interface WebhookReceiverOptions extends WebhookVerifierOptions {
  /**
   * The key deliveries must be signed with (a `whsec_...` or other secret, or an imported key).
   * Without one, deliveries are accepted unsigned (the Python peer does not sign).
   */
  signingKey?: SigningKeyInput;
  /** Largest delivery accepted, in bytes; larger ones get 413. @default {4194304} (4 MiB) */
  maxBodyBytes?: number;
  /** Where events are logged. @default {consoleLogger()} */
  logger?: Logger;
}

/** Where {@linkcode WebhookReceiver.listen} listens. */
export interface WebhookListenOptions {
  /** The interface. @default {"127.0.0.1"} */
  hostname?: string;
  /** The port; 0 lets the system choose. @default {0} */
  port?: number;
  /** The path of the webhook URL it reports. @default {"/webhook"} */
  path?: string;
}

/**
 * A webhook endpoint for any number of `WebhookClientTransport`s: mount its `fetch` handler in
 * your app, or let it `listen()` on its own port. It answers 2xx for a delivery a client took,
 * 401 for one whose signature does not check out (unsigned, tampered, stale or replayed), 404 for
 * one no client here is waiting for, and 4xx with a JSON-RPC error for a malformed one.
 *
 * @example One receiver shared by many clients, mounted in an existing app
 * ```ts ignore
 * import { WebhookClientTransport, WebhookReceiver } from "@asyncmcp/asyncmcp/webhook";
 *
 * const receiver = new WebhookReceiver({ signingKey: Deno.env.get("WEBHOOK_SECRET") });
 * Deno.serve((request) =>
 *   new URL(request.url).pathname === "/mcp/webhook" ? receiver.fetch(request) : app(request)
 * );
 * const transport = new WebhookClientTransport({
 *   serverUrl: "https://mcp.example.com/mcp/request",
 *   webhookUrl: "https://client.example.com/mcp/webhook",
 *   receiver,
 * });
 * ```
 */
export class WebhookReceiver {
  #options: WebhookReceiverOptions;
  #logger: Logger;
  #maxBodyBytes: number;
  #verifier?: WebhookVerifier;
  #router?: ReplyRouter;
  #inbox?: HttpInbox;
  #server?: Promise<ServedFetch>;
  #url?: string;

  /**
   * Creates the receiver.
   *
   * @throws {TypeError} when `signingKey` is an empty secret or its `whsec_` part is not base64.
   */
  constructor(options: WebhookReceiverOptions = {}) {
    this.#options = options;
    this.#logger = options.logger ?? consoleLogger();
    this.#maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
    const { signingKey } = options;
    if (signingKey !== undefined) {
      this.#verifier = new WebhookVerifier(signingKeyOf(signingKey), options);
    }
  }

  /** Whether deliveries must be signed. */
  get verifies(): boolean {
    return this.#verifier !== undefined;
  }

  /** The webhook URL once {@linkcode WebhookReceiver.listen} has started listening. */
  get url(): string | undefined {
    return this.#url;
  }

  /**
   * The reply channel client transports attach to; a fresh one once every client of the last
   * one has left.
   */
  get replies(): ReplyRouter {
    if (!this.#router) {
      const inbox = new HttpInbox({
        acknowledge: () => Response.json({ status: "received" }),
        // Nobody here claims it, and no one else will: tell the server so it stops retrying.
        released: () => noClient(),
      });
      const router: ReplyRouter = new ReplyRouter(inbox, {
        logger: this.#logger,
        onClose: () => {
          if (this.#router === router) {
            this.#router = undefined;
            this.#inbox = undefined;
          }
        },
      });
      this.#router = router;
      this.#inbox = inbox;
    }
    return this.#router;
  }

  /** The web-standard handler for the server's deliveries (POST, one JSON-RPC message each). */
  readonly fetch = async (request: Request): Promise<Response> => {
    if (request.method !== "POST") {
      await request.body?.cancel();
      return jsonRpcErrorResponse(
        405,
        {
          code: JSONRPC_ERROR.INVALID_REQUEST,
          message: `Method ${request.method} not allowed: webhook deliveries are POSTed`,
        },
        null,
        { Allow: "POST" },
      );
    }
    const read = await readMessageBody(request, this.#maxBodyBytes);
    if (!read.ok) return read.response;
    let verified: VerifiedDelivery | undefined;
    if (this.#verifier) {
      try {
        verified = await this.#verifier.check(request.headers, read.body);
      } catch (error) {
        const reason = error instanceof WebhookVerificationError ? error.reason : "key";
        this.#logger.log("warn", "webhook.unverified", {
          reason,
          deliveryId: request.headers.get("webhook-id") ?? undefined,
        });
        if (reason === "mismatch" || reason === "unsigned") {
          // A secret set differently on the two sides: the waiting request fails now, naming
          // why, rather than at its timeout.
          this.#router?.unverified(
            routingOfHeaders(request.headers),
            responseIdOf(read.body),
            `Cannot accept the server's answer as ${
              reason === "unsigned" ? "it is not signed" : "its signature does not match"
            }: give the server and this client the same webhook secret`,
          );
        }
        return jsonRpcErrorResponse(401, {
          code: JSONRPC_ERROR.INVALID_REQUEST,
          message: (error as Error).message,
        });
      }
    }
    if (verified && this.#verifier!.seen(verified.id)) {
      // A retry of one already taken (its answer was lost), or a replay: taken, not passed on.
      this.#logger.log("info", "webhook.duplicate", { deliveryId: verified.id });
      return Response.json({ status: "duplicate" });
    }
    const incoming = decodeHeaders(read.body, request.headers);
    if (!incoming.ok) {
      this.#logger.log("warn", "webhook.malformed", {
        sessionId: incoming.invalid.sessionId,
        reason: incoming.invalid.error.message,
      });
      return jsonRpcErrorResponse(400, incoming.invalid.error, incoming.invalid.id);
    }
    const response = await (this.#inbox?.deliver(incoming) ?? noClient());
    // Remembered only once taken: a retry of a delivery refused with 503 must still get in.
    if (verified && response.ok) this.#verifier!.remember(verified);
    return response;
  };

  /**
   * Serves {@linkcode WebhookReceiver.fetch} on a port of its own (127.0.0.1 and a port the
   * system chooses, unless told otherwise; `Deno.serve` on Deno, `Bun.serve` on Bun, `node:http`
   * on Node) and resolves with the webhook URL to give the server.
   */
  async listen(options: WebhookListenOptions = {}): Promise<string> {
    if (this.#server) {
      throw new Error("Cannot listen as this webhook receiver already listens: call listen() once");
    }
    const listening = this.#server = serveFetch(this.fetch, {
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
    });
    let address: ServedFetch;
    try {
      address = await listening;
    } catch (error) {
      if (this.#server === listening) this.#server = undefined;
      throw error;
    }
    const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
    const url = `http://${host}:${address.port}${options.path ?? "/webhook"}`;
    // Unless close() came first.
    if (this.#server === listening) this.#url = url;
    return url;
  }

  /** Stops listening, when {@linkcode WebhookReceiver.listen} started it. Idempotent. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#url = undefined;
    await (await server?.catch(() => undefined))?.close();
  }
}

/** The id of the response a body carries, when it is one; read before the body is trusted. */
function responseIdOf(body: string): RequestId | undefined {
  try {
    const value = JSON.parse(body) as { id?: unknown; method?: unknown };
    const { id } = value;
    if ("method" in value) return undefined;
    return typeof id === "string" || Number.isSafeInteger(id) ? id as RequestId : undefined;
  } catch {
    return undefined;
  }
}

function noClient(): Response {
  return jsonRpcErrorResponse(404, {
    code: JSONRPC_ERROR.SESSION_NOT_FOUND,
    message: "No client here is waiting for this session's messages: it has closed",
  });
}

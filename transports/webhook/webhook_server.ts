/**
 * An MCP server reached over plain HTTP: clients POST their messages, and the server POSTs every
 * answer to the client's webhook.
 *
 * @module
 */

import type { AddressPolicy } from "../../session/address_policy.ts";
import { decodeHeaders, HEADER } from "../../session/envelope_codec.ts";
import { type Envelope, JSONRPC_ERROR, methodOf } from "../../session/envelope.ts";
import { HostedServer } from "../../session/hosted_server.ts";
import type { SessionOptions } from "../../session/session_host.ts";
import { takeReturnSecret } from "../../session/return_address.ts";
import { type Authorize, type GateVerdict, requestGate } from "../http/authorization.ts";
import type { HostGuardOptions } from "../http/host_guard.ts";
import { HttpInbox } from "../http/http_inbox.ts";
import { jsonRpcErrorResponse, readMessageBody } from "../http/http_message.ts";
import { vetOf, webhookUrlPolicy } from "./webhook_address_policy.ts";
import { WebhookOutbox, type WebhookOutboxOptions } from "./webhook_outbox.ts";
import { WebhookSigningKey } from "./webhook_signature.ts";

/**
 * The `initialize` keys of a webhook client: its webhook URL, and the secret it may choose for
 * signing this session's deliveries (README: Wire format).
 *
 * @example
 * ```ts
 * import { WEBHOOK_RETURN_ADDRESS } from "@asyncmcp/asyncmcp/webhook";
 *
 * console.log(WEBHOOK_RETURN_ADDRESS.meta); // "webhookUrl"
 * ```
 */
export const WEBHOOK_RETURN_ADDRESS = {
  meta: "webhookUrl",
  secret: "webhookSecret",
} as const;

/** Options for {@linkcode WebhookServer}. */
export interface WebhookServerOptions
  extends SessionOptions, WebhookOutboxOptions, HostGuardOptions {
  /**
   * Which webhook URLs may be delivered to.
   * @default {webhookUrlPolicy()} (http and https only; no loopback, private, link-local or metadata address)
   */
  addressPolicy?: AddressPolicy;
  /** Largest request body accepted, in bytes; larger ones get 413. @default {4194304} (4 MiB) */
  maxBodyBytes?: number;
  /**
   * Decides who sent each request (see `bearerTokenAuth`); a session then belongs to the
   * principal that created it and refuses every other one with 403. Without it, anyone who can
   * reach the server is let in.
   */
  authorize?: Authorize;
  /**
   * How long `close()` waits for deliveries still being retried before it gives up on them
   * (each is then logged and passed to `onDeliveryFailure`), in ms. @default {10_000}
   */
  closeTimeoutMs?: number;
}

const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Serves MCP over webhooks. Its {@linkcode WebhookServer.fetch} handler takes the clients' POSTs
 * (one JSON-RPC message each) and DELETEs (end a session), and acknowledges them at once; each
 * session's answers and notifications are POSTed to the `webhookUrl` the client named in
 * `initialize`, signed, in order and retried. Mount `fetch` on `Deno.serve`, `deno serve`,
 * Deno Deploy or any fetch-style router, at any path.
 *
 * @example Serve an MCP server over webhooks on Deno.serve
 * ```ts ignore
 * import { McpServer } from "@asyncmcp/asyncmcp/sdk";
 * import { WebhookServer } from "@asyncmcp/asyncmcp/webhook";
 *
 * const server = new WebhookServer({
 *   createServer: () => new McpServer({ name: "example", version: "1.0.0" }),
 *   signingKey: Deno.env.get("WEBHOOK_SECRET"),
 * });
 * await server.start();
 * Deno.serve({ port: 8000 }, server.fetch);
 * ```
 */
export class WebhookServer extends HostedServer {
  /** The webhook deliveries' outbox; closed with the server. */
  readonly #outbox: WebhookOutbox;
  readonly #inbox: HttpInbox;
  readonly #maxBodyBytes: number;
  readonly #closeTimeoutMs: number;
  readonly #gate: (request: Request) => Promise<GateVerdict>;

  /** Validates the options; requests are refused with 503 until `start()`. */
  constructor(options: WebhookServerOptions) {
    const inbox = new HttpInbox({ acknowledge });
    const addressPolicy = options.addressPolicy ?? webhookUrlPolicy();
    const outbox = new WebhookOutbox({ vet: vetOf(addressPolicy), ...options });
    super({
      ...options,
      inbox,
      outbox,
      returnAddressKey: WEBHOOK_RETURN_ADDRESS,
      addressPolicy,
    });
    this.#inbox = inbox;
    this.#outbox = outbox;
    this.#maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.#gate = requestGate(options);
    if (!(this.#maxBodyBytes > 0)) {
      throw new RangeError(
        `Cannot create webhook server as 'maxBodyBytes' must be positive: current value is ${this.#maxBodyBytes}`,
      );
    }
  }

  /**
   * The web-standard handler: `POST` a message, `DELETE` a session. Bound to the server, so it
   * can be passed around as a plain function. A `Host` or `Origin` that is not allowed gets 403
   * (DNS rebinding), a request the `authorize` hook refuses gets its refusal.
   */
  readonly fetch = async (request: Request): Promise<Response> => {
    const { refused, principal } = await this.#gate(request);
    if (refused) return refused;
    if (request.method === "POST") return await this.#post(request, principal);
    if (request.method === "DELETE") return await this.#delete(request, principal);
    await request.body?.cancel();
    return jsonRpcErrorResponse(
      405,
      {
        code: JSONRPC_ERROR.INVALID_REQUEST,
        message:
          `Method ${request.method} not allowed: POST a JSON-RPC message or DELETE a session`,
      },
      null,
      { Allow: "POST, DELETE" },
    );
  };

  /**
   * Stops taking requests, lets running ones finish for `closeGraceMs`, tells the clients of the
   * rest to retry, ends every session and waits up to `closeTimeoutMs` for deliveries under way.
   */
  override async close(): Promise<void> {
    const timer = setTimeout(() => this.#outbox.abort(), this.#closeTimeoutMs);
    try {
      await super.close();
    } finally {
      clearTimeout(timer);
    }
  }

  async #post(request: Request, principal: string | undefined): Promise<Response> {
    const read = await readMessageBody(request, this.#maxBodyBytes);
    if (!read.ok) return read.response;
    const incoming = decodeHeaders(read.body, request.headers);
    if (!incoming.ok) {
      return jsonRpcErrorResponse(400, incoming.invalid.error, incoming.invalid.id);
    }
    const badSecret = checkSessionSecret(incoming.envelope);
    if (badSecret) return badSecret;
    return await this.#inbox.deliver(incoming, principal);
  }

  async #delete(request: Request, principal: string | undefined): Promise<Response> {
    await request.body?.cancel();
    const sessionId = request.headers.get(HEADER.SESSION_ID) ??
      request.headers.get(HEADER.STANDARD_SESSION_ID);
    if (!sessionId) {
      return jsonRpcErrorResponse(400, {
        code: JSONRPC_ERROR.INVALID_REQUEST,
        message: `Cannot end session as the request has no ${HEADER.SESSION_ID} header: ` +
          "send the session id the server gave",
      });
    }
    const clientId = request.headers.get(HEADER.CLIENT_ID) ?? undefined;
    if (!(await this.endSession(sessionId, { clientId, principal }))) {
      return jsonRpcErrorResponse(404, {
        code: JSONRPC_ERROR.SESSION_NOT_FOUND,
        message: "Session not found: it ended, expired or never existed",
      });
    }
    return Response.json({ status: "terminated" }, {
      headers: { [HEADER.SESSION_ID]: sessionId },
    });
  }
}

/** The acknowledgement the Python peer sends, with the session id once there is one. */
function acknowledge(envelope: Envelope, sessionId: string | undefined): Response {
  const method = methodOf(envelope.message);
  const status = method === "initialize"
    ? "session_created"
    : method === "notifications/initialized"
    ? "initialized"
    : "received";
  return Response.json({ status }, {
    headers: sessionId === undefined ? {} : { [HEADER.SESSION_ID]: sessionId },
  });
}

/** A session secret that cannot sign anything is refused before a session is made for it. */
function checkSessionSecret(envelope: Envelope): Response | undefined {
  if (methodOf(envelope.message) !== "initialize") return undefined;
  const { secret } = takeReturnSecret(envelope.message, WEBHOOK_RETURN_ADDRESS);
  const problem = unusableSessionSecret(secret);
  if (problem === undefined) return undefined;
  return jsonRpcErrorResponse(400, {
    code: JSONRPC_ERROR.INVALID_PARAMS,
    message: problem,
  }, "id" in envelope.message ? envelope.message.id : null);
}

/**
 * Why a client's per-session secret (`_meta.webhookSecret`) cannot sign deliveries, or undefined
 * when it can (or there is none): both webhook servers refuse such an `initialize` up front.
 *
 * @example
 * ```ts
 * import { unusableSessionSecret } from "./webhook_server.ts";
 *
 * console.log(unusableSessionSecret("whsec_%%")); // "Invalid params: _meta.webhookSecret is unusable: ..."
 * ```
 */
export function unusableSessionSecret(secret: string | undefined): string | undefined {
  if (secret === undefined) return undefined;
  try {
    new WebhookSigningKey(secret);
    return undefined;
  } catch (error) {
    return `Invalid params: _meta.${WEBHOOK_RETURN_ADDRESS.secret} is unusable: ${
      (error as Error).message
    }`;
  }
}

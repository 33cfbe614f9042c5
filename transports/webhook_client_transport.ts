/**
 * The SDK `Transport` for MCP clients that reach a server over webhooks.
 *
 * @module
 */

import { ClientTransport } from "../session/client_transport.ts";
import { HEADER } from "../session/envelope_codec.ts";
import { consoleLogger, describeError, type Logger } from "../session/logger.ts";
import { WEBHOOK_RETURN_ADDRESS } from "./webhook_server.ts";
import {
  type WebhookListenOptions,
  WebhookReceiver,
  type WebhookReceiverOptions,
} from "./webhook_receiver.ts";
import {
  WebhookRequestOutbox,
  type WebhookRequestOutboxOptions,
} from "./webhook_request_outbox.ts";

/** Options for {@linkcode WebhookClientTransport}. */
export interface WebhookClientTransportOptions
  extends WebhookRequestOutboxOptions, Omit<WebhookReceiverOptions, "signingKey"> {
  /** The server's URL, where messages are POSTed (the Python peer's default path is `/mcp/request`). */
  serverUrl: string | URL;
  /**
   * The URL the server delivers to: where you mounted `handleWebhook` (or the shared `receiver`).
   * Leave it out with `listen` and the receiver's own URL is used.
   */
  webhookUrl?: string | URL;
  /**
   * Start a receiver on `Deno.serve` for this transport (127.0.0.1 and a free port unless told
   * otherwise); it stops when the transport closes.
   */
  listen?: boolean | WebhookListenOptions;
  /**
   * A receiver shared with other transports (one webhook URL for many clients). Signing is then
   * configured on the receiver.
   */
  receiver?: WebhookReceiver;
  /** The secret deliveries must be signed with, configured on the server too. */
  signingSecret?: string;
  /**
   * Choose a fresh random secret for this session and send it in `initialize`
   * (`_meta.webhookSecret`), so the server signs deliveries without any shared configuration.
   * Python servers ignore it and send unsigned deliveries, which are then refused.
   */
  perSessionSecret?: boolean;
  /** This client's id, sent with every message and echoed by the server. @default {crypto.randomUUID()} */
  clientId?: string;
}

/**
 * Connects an SDK `Client` to a `WebhookServer` (or a Python asyncmcp webhook server): each
 * message is POSTed to `serverUrl`, and answers arrive at the webhook, either through
 * {@linkcode WebhookClientTransport.handleWebhook} mounted in your app, or through a receiver the
 * transport starts itself (`listen`). A POST the server refuses becomes the JSON-RPC error of that
 * request; `close()` ends the session with a DELETE.
 *
 * @example Call a tool over webhooks, with a receiver of its own on 127.0.0.1
 * ```ts ignore
 * import { Client } from "@asyncmcp/asyncmcp/sdk";
 * import { WebhookClientTransport } from "@asyncmcp/asyncmcp/webhook";
 *
 * const transport = new WebhookClientTransport({
 *   serverUrl: "http://127.0.0.1:8000/mcp/request",
 *   listen: true,
 * });
 * const client = new Client({ name: "example", version: "1.0.0" });
 * await client.connect(transport);
 * console.log(await client.listTools());
 * await client.close();
 * ```
 */
export class WebhookClientTransport extends ClientTransport {
  /** The web-standard handler for the server's deliveries: mount it at `webhookUrl`. */
  readonly handleWebhook: (request: Request) => Promise<Response>;
  readonly #receiver: WebhookReceiver;
  readonly #ownReceiver: boolean;
  readonly #listen?: WebhookListenOptions;
  readonly #serverUrl: string;
  readonly #requestOptions: WebhookRequestOutboxOptions;
  readonly #logger: Logger;
  /** Shared with the `initialize` fields: the URL of a receiver that listens is known only once it does. */
  readonly #webhook: { url?: string };

  /** Creates the transport; the SDK client starts it in `connect()`. */
  constructor(options: WebhookClientTransportOptions) {
    if (options.receiver && (options.signingSecret || options.perSessionSecret || options.listen)) {
      throw new TypeError(
        "Cannot combine a shared 'receiver' with 'signingSecret', 'perSessionSecret' or " +
          "'listen': configure signing and listening on the shared receiver",
      );
    }
    if (options.signingSecret && options.perSessionSecret) {
      throw new TypeError(
        "Cannot use both 'signingSecret' and 'perSessionSecret': pick the shared secret or a fresh one",
      );
    }
    if (!options.webhookUrl && !options.listen && !options.receiver?.url) {
      throw new TypeError(
        "Cannot create webhook client transport without 'webhookUrl': pass the URL where " +
          "handleWebhook is mounted, or set 'listen: true' to start a receiver",
      );
    }
    const sessionSecret = options.perSessionSecret ? newSecret() : undefined;
    const receiver = options.receiver ??
      new WebhookReceiver({ ...options, signingKey: options.signingSecret ?? sessionSecret });
    const serverUrl = String(options.serverUrl);
    const webhook = { url: options.webhookUrl ? String(options.webhookUrl) : receiver.url };
    super({
      outbox: new WebhookRequestOutbox(options),
      serverAddress: serverUrl,
      replies: () => receiver.replies,
      initializeMeta: () => ({
        [WEBHOOK_RETURN_ADDRESS.meta]: webhook.url!,
        ...(sessionSecret ? { [WEBHOOK_RETURN_ADDRESS.secret]: sessionSecret } : {}),
      }),
      clientId: options.clientId,
      logger: options.logger,
    });
    this.#receiver = receiver;
    this.#ownReceiver = options.receiver === undefined;
    this.#listen = options.listen === true ? {} : options.listen || undefined;
    this.#serverUrl = serverUrl;
    this.#requestOptions = options;
    this.#logger = options.logger ?? consoleLogger();
    this.#webhook = webhook;
    this.handleWebhook = receiver.fetch;
  }

  /** The URL the server delivers to, once known. */
  get webhookUrl(): string | undefined {
    return this.#webhook.url;
  }

  /** Starts the receiver when asked to listen, then starts receiving. */
  override async start(): Promise<void> {
    if (this.#listen) {
      const url = await this.#receiver.listen(this.#listen);
      this.#webhook.url ??= url;
    }
    try {
      await super.start();
    } catch (error) {
      if (this.#ownReceiver) await this.#receiver.close();
      throw error;
    }
  }

  /** Ends the session on the server (DELETE), stops receiving and closes. Idempotent. */
  override async close(): Promise<void> {
    const sessionId = this.sessionId;
    const ending = sessionId === undefined ? Promise.resolve() : this.#endSession(sessionId);
    try {
      await ending;
      await super.close();
    } finally {
      if (this.#ownReceiver) await this.#receiver.close();
    }
  }

  async #endSession(sessionId: string): Promise<void> {
    const headers = new Headers(this.#requestOptions.headers);
    headers.set(HEADER.SESSION_ID, sessionId);
    headers.set(HEADER.CLIENT_ID, this.clientId);
    try {
      const response = await (this.#requestOptions.fetch ?? fetch)(
        new Request(this.#serverUrl, {
          method: "DELETE",
          headers,
          signal: AbortSignal.timeout(this.#requestOptions.requestTimeoutMs ?? 30_000),
        }),
      );
      await response.body?.cancel();
      if (!response.ok && response.status !== 404) {
        this.#logger.log("warn", "session.end_failed", { sessionId, status: response.status });
      }
    } catch (error) {
      // The server ends the session when it idles out: closing must not fail for this.
      this.#logger.log("warn", "session.end_failed", { sessionId, error: describeError(error) });
    }
  }
}

/** A random Standard Webhooks secret: 32 bytes, base64, `whsec_` prefix. */
function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

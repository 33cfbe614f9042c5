/**
 * The SDK `Transport` for MCP clients that reach a server over webhooks.
 *
 * @module
 */

import { ClientTransport } from "../../session/client_transport.ts";
import { HEADER } from "../../session/envelope_codec.ts";
import { consoleLogger, describeError, type Logger } from "../../session/logger.ts";
import { noRedirectFetch } from "../http/no_redirect.ts";
import { WEBHOOK_RETURN_ADDRESS } from "./webhook_server.ts";
import type { WebhookListenOptions, WebhookReceiver } from "./webhook_receiver.ts";
import { webhookReceiving, type WebhookReceivingOptions } from "./webhook_receiving.ts";
import {
  WebhookRequestOutbox,
  type WebhookRequestOutboxOptions,
} from "./webhook_request_outbox.ts";

/** Options for {@linkcode WebhookClientTransport}. */
export interface WebhookClientTransportOptions
  extends WebhookRequestOutboxOptions, WebhookReceivingOptions {
  /** The server's URL, where messages are POSTed (the Python peer's default path is `/mcp/request`). */
  serverUrl: string | URL;
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
  #closing?: Promise<void>;

  /** Creates the transport; the SDK client starts it in `connect()`. */
  constructor(options: WebhookClientTransportOptions) {
    const { receiver, ownReceiver, listen, sessionSecret, webhookUrl } = webhookReceiving(
      options,
    );
    const serverUrl = String(options.serverUrl);
    const webhook = { url: webhookUrl };
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
    this.#ownReceiver = ownReceiver;
    this.#listen = listen;
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
  override close(): Promise<void> {
    // Later and re-entrant calls (from onclose) share the first: one DELETE per session.
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
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
      const response = await noRedirectFetch(this.#requestOptions.fetch)(
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

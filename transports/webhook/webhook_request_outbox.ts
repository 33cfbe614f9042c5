/**
 * How a webhook client's messages reach the server: one POST each, acknowledged at once.
 *
 * @module
 */

import { encodeHeaders } from "../../session/envelope_codec.ts";
import { type Envelope, JSONRPC_ERROR, type JsonRpcErrorObject } from "../../session/envelope.ts";
import { MessageRefusedError } from "../../session/errors.ts";
import { describeError } from "../../session/logger.ts";
import type { Outbox } from "../../session/outbox.ts";
import { pause } from "../../session/pause.ts";
import { noRedirectFetch, RedirectRefusedError } from "../http/no_redirect.ts";
import { retryAfterMs } from "../http/retry_after.ts";

/** Options for {@linkcode WebhookRequestOutbox}. */
export interface WebhookRequestOutboxOptions {
  /** Headers sent with every request, e.g. `Authorization`. */
  headers?: HeadersInit;
  /** How long one POST may take, in ms. @default {30_000} */
  requestTimeoutMs?: number;
  /** Attempts of a POST the server answered 429, or 503 with `Retry-After` (honoured). @default {3} */
  maxAttempts?: number;
  /** The HTTP client. @default {globalThis.fetch} */
  fetch?: (request: Request) => Promise<Response>;
}

/** The longest `Retry-After` honoured before giving up, in ms. */
const MAX_RETRY_WAIT_MS = 5_000;

/**
 * POSTs each envelope to the server URL as one JSON-RPC message with the routing headers. A 2xx
 * acknowledgement resolves; 429, and 503 with `Retry-After`, are tried again; any other refusal rejects with
 * {@linkcode MessageRefusedError} carrying the server's JSON-RPC error (or one describing the
 * HTTP status), which the client transport turns into the answer of the refused request.
 *
 * @example
 * ```ts ignore
 * const outbox = new WebhookRequestOutbox({ headers: { Authorization: "Bearer t0ken" } });
 * await outbox.send("https://mcp.example.com/mcp/request", { message, clientId: "c1" });
 * ```
 */
export class WebhookRequestOutbox implements Outbox {
  #options: WebhookRequestOutboxOptions;
  #fetch: (request: Request) => Promise<Response>;
  #abort = new AbortController();

  /** Creates the outbox. */
  constructor(options: WebhookRequestOutboxOptions = {}) {
    this.#options = options;
    this.#fetch = noRedirectFetch(options.fetch);
  }

  /** POSTs one envelope to `url`; resolves once the server has acknowledged it. */
  async send(url: string, envelope: Envelope): Promise<void> {
    const { body, headers } = encodeHeaders(envelope);
    for (const [name, value] of new Headers(this.#options.headers)) headers.set(name, value);
    const maxAttempts = this.#options.maxAttempts ?? 3;
    for (let attempt = 1;; attempt++) {
      let response: Response;
      try {
        response = await this.#fetch(
          new Request(url, {
            method: "POST",
            headers,
            body,
            signal: AbortSignal.any([
              this.#abort.signal,
              AbortSignal.timeout(this.#options.requestTimeoutMs ?? 30_000),
            ]),
          }),
        );
      } catch (error) {
        if (error instanceof RedirectRefusedError) {
          // The caller gets the reason as its request's answer, not a hang.
          throw new MessageRefusedError(
            { code: JSONRPC_ERROR.INTERNAL_ERROR, message: error.message },
            error.status,
          );
        }
        throw new Error(`Cannot reach MCP server at ${url}: ${describeError(error)}`, {
          cause: error,
        });
      }
      const text = await response.text().catch(() => "");
      if (response.ok) return;
      // 503 is retried only when the server says when (it is closing, or restarting); without
      // Retry-After it is a refusal, such as a full session table, that retrying will not cure.
      const retryAfter = retryAfterMs(response.headers.get("retry-after"));
      const waitMs = retryAfter ?? 250 * 2 ** attempt;
      const retryable = response.status === 429 ||
        (response.status === 503 && retryAfter !== undefined);
      if (!retryable || attempt >= maxAttempts || waitMs > MAX_RETRY_WAIT_MS) {
        throw new MessageRefusedError(refusalOf(response.status, text), response.status);
      }
      await pause(waitMs, this.#abort.signal);
    }
  }

  /** Abandons POSTs under way (they reject). Idempotent. */
  close(): Promise<void> {
    this.#abort.abort();
    return Promise.resolve();
  }
}

/** The server's JSON-RPC error from a refusal's body, or one that describes the status. */
function refusalOf(status: number, text: string): JsonRpcErrorObject {
  try {
    const error = JSON.parse(text)?.error;
    if (typeof error?.code === "number" && typeof error?.message === "string") {
      return { code: error.code, message: error.message };
    }
  } catch {
    // Not JSON: described below.
  }
  const detail = text.trim().slice(0, 200);
  return {
    code: status === 404 ? JSONRPC_ERROR.SESSION_NOT_FOUND : JSONRPC_ERROR.INTERNAL_ERROR,
    message: `MCP server refused the message with HTTP ${status}` + (detail ? `: ${detail}` : ""),
  };
}

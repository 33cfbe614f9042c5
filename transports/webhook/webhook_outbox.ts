/**
 * Delivering envelopes to webhook URLs: signed, in order per session, retried with back-off, and
 * handed to a failure hook when they finally cannot be delivered.
 *
 * @module
 */

import { encodeHeaders } from "../../session/envelope_codec.ts";
import type { Envelope } from "../../session/envelope.ts";
import { DeliveryFailedError } from "../../session/errors.ts";
import { consoleLogger, describeError, type Logger } from "../../session/logger.ts";
import type { Outbox, SendOptions } from "../../session/outbox.ts";
import {
  signDelivery,
  type SigningKeyInput,
  signingKeyOf,
  type WebhookSigningKey,
} from "./webhook_signature.ts";
import { pause } from "../../session/pause.ts";
import { retryAfterMs } from "../http/retry_after.ts";
import { pinnedPost } from "./pinned_post.ts";
import type { WebhookUrlVerdict } from "./webhook_address_policy.ts";

/** How long an address check is trusted before a delivery checks again, in ms. */
const VERDICT_TTL_MS = 60_000;
const PASSED: WebhookUrlVerdict = { ok: true };

/** What {@linkcode WebhookOutboxOptions.onDeliveryFailure} receives. */
export interface WebhookDeliveryFailure {
  /** The webhook URL. */
  url: string;
  /** The envelope that could not be delivered. */
  envelope: Envelope;
  /** The `webhook-id` the delivery carried. */
  deliveryId: string;
  /** Attempts made. */
  attempts: number;
  /** The last HTTP status, when the receiver answered at all. */
  status?: number;
  /** The last network error, when it did not. */
  error?: unknown;
  /** Why the URL no longer passed the address check, when that is why it was not sent. */
  refused?: string;
}

/**
 * A delivery that failed for good; the failure's facts are on the error.
 *
 * @example
 * ```ts
 * import { WebhookDeliveryError } from "@asyncmcp/asyncmcp/webhook";
 *
 * const error = new WebhookDeliveryError("Cannot deliver", {
 *   url: "https://client.example.com/hook",
 *   envelope: { message: { jsonrpc: "2.0", method: "x" } },
 *   deliveryId: "d1",
 *   attempts: 6,
 *   status: 503,
 * });
 * console.log(error.failure.status); // 503
 * ```
 */
export class WebhookDeliveryError extends DeliveryFailedError {
  /** What happened. */
  readonly failure: WebhookDeliveryFailure;

  /**
   * Creates the error: permanent when the receiver answered with a refusal (a 4xx other than
   * 408 and 429), passing when it could not be reached or kept failing.
   */
  constructor(message: string, failure: WebhookDeliveryFailure) {
    super(message, {
      permanent: failure.refused !== undefined ||
        (failure.status !== undefined && failure.status >= 400 && failure.status < 500 &&
          failure.status !== 408 && failure.status !== 429),
      deliveryId: failure.deliveryId,
    }, { cause: failure.error });
    this.name = "WebhookDeliveryError";
    this.failure = failure;
  }
}

/** Options for {@linkcode WebhookOutbox}. */
export interface WebhookOutboxOptions {
  /**
   * The key that signs deliveries (Standard Webhooks): a secret (`whsec_...` or any string), a
   * Web Crypto HMAC key, a `WebhookSigningKey`, or a function choosing one per URL. A session's
   * own secret (`_meta.webhookSecret`, passed to `send`) takes precedence.
   */
  signingKey?: SigningKeyInput | ((url: string) => SigningKeyInput | undefined);
  /**
   * Attempts per delivery, the first included. @default {Infinity} (retries are bounded by
   * `maxElapsedMs`)
   */
  maxAttempts?: number;
  /**
   * Give up once this much time has passed since the first attempt, in ms: a receiver that is
   * down for less still gets every delivery. @default {60_000}
   */
  maxElapsedMs?: number;
  /** Wait before the first retry, doubled for each next one (with jitter), in ms. @default {200} */
  initialDelayMs?: number;
  /** Longest wait between attempts (also caps `Retry-After`), in ms. @default {10_000} */
  maxDelayMs?: number;
  /** How long one attempt may take, in ms. @default {10_000} */
  attemptTimeoutMs?: number;
  /** Called with every delivery that finally failed (after logging it). */
  onDeliveryFailure?: (failure: WebhookDeliveryFailure) => void;
  /**
   * The HTTP client. When given, deliveries go through it and are not pinned to checked
   * addresses. @default {globalThis.fetch} (and `node:http` for pinned deliveries)
   */
  fetch?: (request: Request) => Promise<Response>;
  /**
   * Checks a webhook URL again before each delivery (verdicts are kept for a minute) and names
   * the addresses to connect to; a refused URL is not sent to. Webhook servers pass their
   * address policy's `vet` (see `webhookUrlPolicy`). @default no check (the address was checked
   * when the session began)
   */
  vet?: (url: string) => Promise<WebhookUrlVerdict>;
  /** Where events are logged. @default {consoleLogger()} */
  logger?: Logger;
}

/**
 * An outbox whose addresses are webhook URLs. Each envelope is POSTed as its JSON-RPC message
 * with the routing headers; a 2xx answer accepts it. Network errors, timeouts, 5xx and 429
 * (honouring `Retry-After`) are retried with exponential back-off and jitter; other answers are
 * final. Deliveries of one session to one URL keep their order; sessions do not wait for each
 * other. A delivery that finally fails is logged, passed to `onDeliveryFailure`, and rejects with
 * {@linkcode WebhookDeliveryError}.
 *
 * @example Deliver to a client's webhook
 * ```ts ignore
 * import { WebhookOutbox, WebhookSigningKey } from "@asyncmcp/asyncmcp/webhook";
 *
 * const outbox = new WebhookOutbox({
 *   signingKey: new WebhookSigningKey(Deno.env.get("WEBHOOK_SECRET")!),
 *   onDeliveryFailure: (failure) => console.error("undeliverable", failure.deliveryId),
 * });
 * await outbox.send("https://client.example.com/mcp/webhook", {
 *   message: { jsonrpc: "2.0", id: 1, result: {} },
 *   sessionId: "a1b2",
 * });
 * ```
 */
export class WebhookOutbox implements Outbox {
  #options: WebhookOutboxOptions;
  #fetch: (request: Request) => Promise<Response>;
  #logger: Logger;
  #maxAttempts: number;
  #maxElapsedMs: number;
  #initialDelayMs: number;
  #maxDelayMs: number;
  #attemptTimeoutMs: number;
  /** The last delivery of each (URL, session), which the next one waits for. */
  #tails = new Map<string, Promise<void>>();
  #abort = new AbortController();
  /** Keys by secret, newest last; bounded so that many sessions cannot grow it. */
  #keys = new Map<string, WebhookSigningKey>();
  #signingKey: WebhookSigningKey | ((url: string) => SigningKeyInput | undefined) | undefined;
  /** Recent address checks by URL, bounded. */
  #verdicts = new Map<string, { verdict: Promise<WebhookUrlVerdict>; until: number }>();

  /**
   * Validates the options.
   *
   * @throws {TypeError} when `signingKey` is an empty secret or its `whsec_` part is not base64.
   */
  constructor(options: WebhookOutboxOptions = {}) {
    this.#options = options;
    const { signingKey } = options;
    // A bad secret is a configuration error: refuse it now, not at the first delivery.
    this.#signingKey = typeof signingKey === "function" || signingKey === undefined
      ? signingKey
      : signingKeyOf(signingKey);
    this.#fetch = options.fetch ?? ((request) => fetch(request));
    this.#logger = options.logger ?? consoleLogger();
    this.#maxAttempts = options.maxAttempts ?? Infinity;
    this.#maxElapsedMs = options.maxElapsedMs ?? 60_000;
    this.#initialDelayMs = options.initialDelayMs ?? 200;
    this.#maxDelayMs = options.maxDelayMs ?? 10_000;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 10_000;
    if (
      !((Number.isInteger(this.#maxAttempts) || this.#maxAttempts === Infinity) &&
        this.#maxAttempts >= 1)
    ) {
      throw new RangeError(
        `Cannot create webhook outbox as 'maxAttempts' must be a whole number of at least 1: current value is ${this.#maxAttempts}`,
      );
    }
  }

  /**
   * Delivers one envelope to `url`, after the session's earlier deliveries to it, signed with
   * `options.secret` when given, else with the configured key.
   */
  send(url: string, envelope: Envelope, options?: SendOptions): Promise<void> {
    const key = `${url} ${envelope.sessionId ?? envelope.clientId ?? ""}`;
    const previous = this.#tails.get(key) ?? Promise.resolve();
    // A failed delivery must not hold back the next one: only its completion is awaited.
    const delivery = previous.then(() => this.#deliver(url, envelope, options));
    const tail = delivery.then(() => {}, () => {});
    this.#tails.set(key, tail);
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return delivery;
  }

  /** Waits for every delivery under way (including its retries). */
  async close(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all([...this.#tails.values()]);
  }

  /** Stops waiting between retries: pending deliveries fail at their next attempt. */
  abort(): void {
    this.#abort.abort();
  }

  async #post(
    url: string,
    headers: Headers,
    body: string,
    signal: AbortSignal,
  ): Promise<{ status: number; headers: Headers }> {
    const response = await this.#fetch(
      new Request(url, { method: "POST", headers, body, redirect: "manual", signal }),
    );
    await response.body?.cancel();
    return response;
  }

  /** The URL's verdict, checked again at most once a minute. */
  #vet(url: string): Promise<WebhookUrlVerdict> | WebhookUrlVerdict {
    const { vet } = this.#options;
    if (!vet) return PASSED;
    const now = Date.now();
    const cached = this.#verdicts.get(url);
    if (cached && cached.until > now) return cached.verdict;
    const verdict = vet(url);
    this.#verdicts.set(url, { verdict, until: now + VERDICT_TTL_MS });
    if (this.#verdicts.size > 1024) this.#verdicts.delete(this.#verdicts.keys().next().value!);
    // A check that failed to run is not remembered.
    verdict.catch(() => this.#verdicts.delete(url));
    return verdict;
  }

  #key(url: string, secret: string | undefined): WebhookSigningKey | undefined {
    const configured = this.#signingKey;
    const chosen = secret ?? (typeof configured === "function" ? configured(url) : configured);
    if (chosen === undefined) return undefined;
    if (typeof chosen !== "string") return signingKeyOf(chosen);
    let key = this.#keys.get(chosen);
    if (!key) {
      key = signingKeyOf(chosen);
      this.#keys.set(chosen, key);
      if (this.#keys.size > 1024) this.#keys.delete(this.#keys.keys().next().value!);
    }
    return key;
  }

  async #deliver(url: string, envelope: Envelope, options: SendOptions = {}): Promise<void> {
    // A message sent again keeps its id, so that a receiver that took it once drops the repeat.
    const deliveryId = options.deliveryId ?? `msg_${crypto.randomUUID().replaceAll("-", "")}`;
    const { body, headers } = encodeHeaders(envelope);
    const key = this.#key(url, options.secret);
    const started = Date.now();
    let status: number | undefined;
    let error: unknown;
    let refused: string | undefined;
    let attempts = 0;
    while (attempts < this.#maxAttempts && !this.#abort.signal.aborted) {
      attempts++;
      status = undefined;
      error = undefined;
      let waitMs: number | undefined;
      try {
        const verdict = await this.#vet(url);
        if (!verdict.ok) {
          // The address no longer passes (its name now resolves somewhere refused): never sent.
          refused = verdict.reason;
          error = new Error(verdict.reason);
          break;
        }
        if (key) {
          // Signed per attempt: the timestamp must be fresh when the receiver checks it.
          for (const [name, value] of Object.entries(await signDelivery(key, deliveryId, body))) {
            headers.set(name, value);
          }
        }
        const signal = AbortSignal.any([
          this.#abort.signal,
          AbortSignal.timeout(this.#attemptTimeoutMs),
        ]);
        const answer = verdict.addresses && !this.#options.fetch
          ? await pinnedPost(new URL(url), {
            addresses: verdict.addresses,
            headers,
            body,
            signal,
          })
          : await this.#post(url, headers, body, signal);
        status = answer.status;
        if (status >= 200 && status < 300) return;
        if (status !== 429 && status < 500) break;
        waitMs = retryAfterMs(answer.headers.get("retry-after"));
      } catch (caught) {
        error = caught;
      }
      if (attempts >= this.#maxAttempts) break;
      const backoff = Math.min(this.#maxDelayMs, this.#initialDelayMs * 2 ** (attempts - 1));
      const delay = Math.min(this.#maxDelayMs, waitMs ?? backoff / 2 + Math.random() * backoff / 2);
      if (Date.now() - started + delay > this.#maxElapsedMs) break;
      await pause(delay, this.#abort.signal);
    }
    const failure: WebhookDeliveryFailure = {
      url,
      envelope,
      deliveryId,
      attempts,
      status,
      error,
      refused,
    };
    this.#logger.log("warn", "webhook.delivery_failed", {
      url,
      deliveryId,
      sessionId: envelope.sessionId,
      attempts,
      status,
      error: error === undefined ? undefined : describeError(error),
    });
    this.#options.onDeliveryFailure?.(failure);
    throw new WebhookDeliveryError(
      `Cannot deliver message to webhook ${url}: ` +
        (status === undefined ? describeError(error) : `answered ${status}`) +
        ` after ${attempts} attempt${attempts === 1 ? "" : "s"}`,
      failure,
    );
  }
}

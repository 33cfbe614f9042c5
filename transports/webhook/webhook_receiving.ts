/**
 * How a client transport receives webhook deliveries: through its own receiver or a shared one,
 * at which URL, verified with which secret. Shared by the webhook and the Streamable HTTP +
 * webhook client transports.
 *
 * @module
 */

import {
  type WebhookListenOptions,
  WebhookReceiver,
  type WebhookReceiverOptions,
} from "./webhook_receiver.ts";

/** The receiving half of a webhook client transport's options. */
export interface WebhookReceivingOptions extends Omit<WebhookReceiverOptions, "signingKey"> {
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
}

/** What {@linkcode webhookReceiving} settled on. */
export interface WebhookReceiving {
  /** The receiver deliveries arrive at. */
  receiver: WebhookReceiver;
  /** Whether the transport made the receiver, and so closes it. */
  ownReceiver: boolean;
  /** Where to listen when the transport starts, if it should. */
  listen?: WebhookListenOptions;
  /** The session's own secret, sent in `initialize`. */
  sessionSecret?: string;
  /** The webhook URL, when already known (else the receiver's once it listens). */
  webhookUrl?: string;
}

/**
 * Checks that the options agree and makes the receiver they ask for.
 *
 * @example
 * ```ts
 * import { webhookReceiving } from "./webhook_receiving.ts";
 *
 * const { receiver, sessionSecret } = webhookReceiving({
 *   webhookUrl: "https://client.example.com/webhook",
 *   perSessionSecret: true,
 * });
 * console.log(sessionSecret?.startsWith("whsec_")); // true
 * ```
 *
 * @throws {TypeError} for options that contradict each other, or no way to learn the webhook URL.
 */
export function webhookReceiving(options: WebhookReceivingOptions): WebhookReceiving {
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
      "Cannot create client transport without 'webhookUrl': pass the URL where " +
        "handleWebhook is mounted, or set 'listen: true' to start a receiver",
    );
  }
  const sessionSecret = options.perSessionSecret ? newSecret() : undefined;
  const receiver = options.receiver ??
    new WebhookReceiver({ ...options, signingKey: options.signingSecret ?? sessionSecret });
  return {
    receiver,
    ownReceiver: options.receiver === undefined,
    listen: options.listen === true ? {} : options.listen || undefined,
    sessionSecret,
    webhookUrl: options.webhookUrl ? String(options.webhookUrl) : receiver.url,
  };
}

/** A random Standard Webhooks secret: 32 bytes, base64, `whsec_` prefix. */
function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

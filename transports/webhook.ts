/**
 * The webhook transport's building blocks. So far: signing and verifying deliveries in the
 * Standard Webhooks format, the outbox that delivers a server's messages to client webhooks
 * (signed, ordered per session, retried, with a failure hook), and the policy that keeps those
 * deliveries off private and local addresses.
 *
 * @example Sign a delivery and verify it
 * ```ts
 * import { importSigningKey, signDelivery, WebhookVerifier } from "@asyncmcp/asyncmcp/webhook";
 *
 * const key = await importSigningKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
 * const body = '{"jsonrpc":"2.0","id":1,"result":{}}';
 * const headers = new Headers({ ...(await signDelivery(key, crypto.randomUUID(), body)) });
 * await new WebhookVerifier(key).verify(headers, body);
 * ```
 *
 * @module
 */

export {
  importSigningKey,
  type SignatureHeaders,
  signDelivery,
  type VerificationFailure,
  WebhookVerificationError,
  WebhookVerifier,
  type WebhookVerifierOptions,
} from "./webhook_signature.ts";
export {
  WebhookDeliveryError,
  type WebhookDeliveryFailure,
  WebhookOutbox,
  type WebhookOutboxOptions,
} from "./webhook_outbox.ts";
export {
  checkWebhookUrl,
  webhookUrlPolicy,
  type WebhookUrlPolicyOptions,
  type WebhookUrlVerdict,
} from "./webhook_address_policy.ts";

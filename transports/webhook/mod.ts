/**
 * MCP over webhooks: clients POST their messages to a {@linkcode WebhookServer}, which POSTs every
 * answer to the client's webhook; a {@linkcode WebhookClientTransport} connects the SDK `Client`.
 * Also here: signing and verifying deliveries in the Standard Webhooks format, the outbox that
 * delivers to client webhooks (signed, ordered per session, retried, with a failure hook), the
 * receiver that takes deliveries on the client side, and the policy that keeps deliveries off
 * private and local addresses.
 *
 * @example Sign a delivery and verify it
 * ```ts
 * import { signDelivery, WebhookSigningKey, WebhookVerifier } from "@asyncmcp/asyncmcp/webhook";
 *
 * const key = new WebhookSigningKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
 * const body = '{"jsonrpc":"2.0","id":1,"result":{}}';
 * const headers = new Headers({ ...(await signDelivery(key, crypto.randomUUID(), body)) });
 * await new WebhookVerifier(key).verify(headers, body);
 * ```
 *
 * @module
 */

export {
  type Authorize,
  bearerTokenAuth,
  type BearerTokenAuthOptions,
  type Principal,
} from "../http/authorization.ts";
export type { HostGuardOptions } from "../http/host_guard.ts";
export { RedirectRefusedError } from "../http/no_redirect.ts";
export {
  WEBHOOK_RETURN_ADDRESS,
  WebhookServer,
  type WebhookServerOptions,
} from "./webhook_server.ts";
export {
  WebhookClientTransport,
  type WebhookClientTransportOptions,
} from "./webhook_client_transport.ts";
export {
  type WebhookListenOptions,
  WebhookReceiver,
  type WebhookReceiverOptions,
} from "./webhook_receiver.ts";
export {
  WebhookRequestOutbox,
  type WebhookRequestOutboxOptions,
} from "./webhook_request_outbox.ts";
export {
  type SignatureHeaders,
  signDelivery,
  type SigningKeyInput,
  type VerificationFailure,
  type VerifiedDelivery,
  WebhookSigningKey,
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
  type WebhookUrlPolicy,
  webhookUrlPolicy,
  type WebhookUrlPolicyOptions,
  type WebhookUrlVerdict,
} from "./webhook_address_policy.ts";
export type { WebhookReceivingOptions } from "./webhook_receiving.ts";

/**
 * The contract for a place where envelopes leave: an SQS queue, an SNS topic or a webhook URL.
 *
 * @module
 */

import type { Envelope } from "./envelope.ts";

/** Per-message facts of a send that are not part of the envelope. */
export interface SendOptions {
  /**
   * The secret the client gave with its return address (`_meta.webhookSecret`), for outboxes
   * that sign what they deliver; others ignore it.
   */
  secret?: string;
  /**
   * The id this message was first sent with, when it is sent again (a result kept after its
   * delivery failed), so that a receiver can drop it if the first send did arrive; outboxes
   * that give messages ids (webhook deliveries) reuse it, others ignore it.
   */
  deliveryId?: string;
}

/**
 * Sends envelopes to addresses of one kind (queue URLs, topic ARNs, URLs).
 *
 * @example An outbox that records what it sends
 * ```ts
 * import type { Envelope, Outbox } from "@asyncmcp/asyncmcp/session";
 *
 * class RecordingOutbox implements Outbox {
 *   readonly sent: Array<[string, Envelope]> = [];
 *   send(address: string, envelope: Envelope): Promise<void> {
 *     this.sent.push([address, envelope]);
 *     return Promise.resolve();
 *   }
 *   close(): Promise<void> {
 *     return Promise.resolve();
 *   }
 * }
 * ```
 */
export interface Outbox {
  /**
   * Sends one envelope. Resolves once the destination has accepted it.
   *
   * @throws {MessageTooLargeError} when the encoded message exceeds the destination's limit.
   * @throws {BrokerError} when the destination refused it or could not be reached.
   */
  send(address: string, envelope: Envelope, options?: SendOptions): Promise<void>;
  /** Sends what is still buffered, then releases resources. Idempotent. */
  close(): Promise<void>;
}

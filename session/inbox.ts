/**
 * The contract between a place where messages arrive (a queue, a topic's queue, an HTTP endpoint)
 * and the session logic that consumes them.
 *
 * @module
 */

import type { RequestId } from "../sdk.ts";
import type { Incoming, JsonRpcErrorObject } from "./envelope.ts";

/**
 * One message received from an inbox. Exactly one of `ack`, `release` or `reject` settles it;
 * later calls are ignored. Until it is settled the inbox keeps it from being delivered again
 * (for SQS: by extending its visibility timeout).
 */
export interface InboxDelivery {
  /** The decoded message, or the error that answers a malformed one. */
  readonly incoming: Incoming;
  /** The broker's id for the message (stable across redeliveries), for logs and de-duplication. */
  readonly messageId: string;
  /** How many times the broker has delivered this message, this time included. */
  readonly receiveCount: number;
  /** When the message was first sent, in epoch milliseconds, when the broker says. */
  readonly sentAt?: number;
  /**
   * Who sent it, for sources that authenticate senders (an HTTP server with an `authorize`
   * hook): a session is bound to the principal that created it.
   */
  readonly principal?: string;
  /**
   * The message was handled: remove it for good. `sessionId` names the session it created or
   * joined, for sources that tell the sender (an HTTP acknowledgement).
   */
  ack(sessionId?: string): void;
  /**
   * The message was not handled here: let the broker deliver it again after `delaySeconds`
   * (default 0), here or elsewhere.
   */
  release(delaySeconds?: number): void;
  /**
   * The message can never be handled: hand it to the broker's dead-letter policy when the source
   * has one, otherwise remove it. The caller logs why.
   */
  reject(): void;
  /**
   * Present when the sender waits for the outcome (an HTTP request): refuses the message with a
   * JSON-RPC error that the sender receives in its reply, instead of one sent to its return
   * address. Settles the delivery.
   */
  readonly refuse?: (error: JsonRpcErrorObject, id: RequestId | null) => void;
}

/** Receives the deliveries of one poll or request; must not throw. */
export type DeliveryHandler = (deliveries: InboxDelivery[]) => void;

/** Receives failures of the source itself (a broker call that failed); must not throw. */
export type InboxErrorHandler = (error: Error) => void;

/**
 * A source of deliveries.
 *
 * @example A minimal inbox that never receives anything
 * ```ts
 * import type { DeliveryHandler, Inbox } from "@asyncmcp/asyncmcp/session";
 *
 * class SilentInbox implements Inbox {
 *   readonly acksOnReceipt = false;
 *   start(_handler: DeliveryHandler): Promise<void> {
 *     return Promise.resolve();
 *   }
 *   stop(): Promise<void> {
 *     return Promise.resolve();
 *   }
 *   close(): Promise<void> {
 *     return Promise.resolve();
 *   }
 * }
 * ```
 */
export interface Inbox {
  /**
   * True when requests must be settled on receipt rather than once answered: the source withholds
   * a session's later messages while an earlier one is unsettled (SQS FIFO message groups), or the
   * sender waits for the acknowledgement (HTTP). Such a source cannot deliver a request again, so
   * a consumer that shuts down before answering tells the sender to retry.
   */
  readonly acksOnReceipt: boolean;
  /** Starts delivering to `handler`. Throws when called twice or after close. */
  start(handler: DeliveryHandler): Promise<void>;
  /**
   * Stops receiving at once (ends a long poll in progress). Deliveries already handed over can
   * still be settled. Idempotent.
   */
  stop(): Promise<void>;
  /**
   * Stops receiving, releases every unsettled delivery and sends the acknowledgements still
   * pending. Idempotent.
   */
  close(): Promise<void>;
}

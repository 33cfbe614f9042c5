/**
 * The contract between a place where messages arrive (a queue, a topic's queue, an HTTP endpoint)
 * and the session logic that consumes them.
 *
 * @module
 */

import type { Incoming } from "./envelope.ts";

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
  /** The message was handled: remove it for good. */
  ack(): void;
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
 *   readonly holdsGroupsInFlight = false;
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
   * True when the source withholds a session's later messages while an earlier one is unsettled
   * (SQS FIFO message groups). Consumers then settle requests on receipt, or a session would stall.
   */
  readonly holdsGroupsInFlight: boolean;
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

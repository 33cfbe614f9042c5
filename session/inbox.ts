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
  /** The message was handled: remove it for good. */
  ack(): void;
  /** The message was not handled here: let the broker deliver it again soon, here or elsewhere. */
  release(): void;
  /**
   * The message can never be handled: hand it to the broker's dead-letter policy when the source
   * has one, otherwise remove it. The caller logs why.
   */
  reject(): void;
}

/** Options for {@linkcode Inbox.close}. */
export interface InboxCloseOptions {
  /** How long to wait for unsettled deliveries before releasing them, in milliseconds. @default {0} */
  graceMs?: number;
}

/** Receives the deliveries of one poll or request; must not throw. */
export type DeliveryHandler = (deliveries: InboxDelivery[]) => void;

/**
 * A source of deliveries.
 *
 * @example A minimal in-memory inbox
 * ```ts
 * import type { DeliveryHandler, Inbox } from "@asyncmcp/asyncmcp/session";
 *
 * class ArrayInbox implements Inbox {
 *   readonly holdsGroupsInFlight = false;
 *   #handler?: DeliveryHandler;
 *   start(handler: DeliveryHandler): Promise<void> {
 *     this.#handler = handler;
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
  /** Starts delivering to `handler`. Throws when called twice. */
  start(handler: DeliveryHandler): Promise<void>;
  /**
   * Stops receiving at once, waits up to `graceMs` (default 0) for unsettled deliveries to be
   * settled, releases the rest and flushes pending acknowledgements. Idempotent.
   */
  close(options?: InboxCloseOptions): Promise<void>;
}

/**
 * The part of every AWS outbox that does not depend on the service: encoding, the size limit,
 * FIFO grouping and coalescing sends into batch calls per destination.
 *
 * @module
 */

import {
  encodeAttributes,
  encodedSize,
  type MessageAttributes,
} from "../session/envelope_codec.ts";
import type { Envelope } from "../session/envelope.ts";
import { MessageTooLargeError } from "../session/errors.ts";
import type { Outbox } from "../session/outbox.ts";
import { Batcher } from "./batcher.ts";

/** One encoded message on its way to a queue or topic. */
export interface OutgoingMessage {
  /** The JSON-RPC message as text. */
  body: string;
  /** The routing facts as message attributes. */
  attributes: MessageAttributes;
  /** For FIFO destinations: the message group (the session id, else the client id). */
  groupId?: string;
  /** Body plus attributes, in bytes. */
  size: number;
}

/** The service calls a {@linkcode BatchingOutbox} needs: one message, or up to ten at once. */
export interface SendApi {
  /** Names the destination in errors, e.g. `SQS queue`. */
  readonly destination: string;
  /** Sends one message. Throws a `BrokerError`. */
  sendOne(address: string, message: OutgoingMessage): Promise<void>;
  /** Sends up to ten messages; returns, per message in order, undefined or its error. */
  sendBatch(address: string, messages: OutgoingMessage[]): Promise<Array<Error | undefined>>;
}

/** Options for {@linkcode BatchingOutbox}. */
export interface BatchingOutboxOptions {
  /** Largest message sent, body and attributes, in bytes; larger ones fail before any call. */
  maxMessageBytes: number;
  /** Largest batch call, in bytes. */
  maxBatchBytes: number;
  /** Batch calls running at once per destination. @default {2} */
  maxConcurrentBatches?: number;
}

/**
 * An {@linkcode Outbox} over any AWS service with single and batch sends. Messages sent in the
 * same tick, and those sent while every batch slot of their destination is busy, travel in one
 * batch call; a lone message goes out at once as a single call.
 *
 * @example Build an outbox for another service
 * ```ts ignore
 * const outbox = new BatchingOutbox(myServiceApi, { maxMessageBytes: 262_144, maxBatchBytes: 262_144 });
 * ```
 */
export class BatchingOutbox implements Outbox {
  #api: SendApi;
  #options: BatchingOutboxOptions;
  #destinations = new Map<string, Batcher<OutgoingMessage>>();

  /** Sends through `api` within the limits of `options`. */
  constructor(api: SendApi, options: BatchingOutboxOptions) {
    this.#api = api;
    this.#options = options;
  }

  /** Sends one envelope to `address`. */
  send(address: string, envelope: Envelope): Promise<void> {
    const { body, attributes } = encodeAttributes({
      ...envelope,
      timestamp: envelope.timestamp ?? Math.floor(Date.now() / 1000),
    });
    const size = encodedSize(body, attributes);
    if (size > this.#options.maxMessageBytes) {
      return Promise.reject(
        new MessageTooLargeError(
          size,
          this.#options.maxMessageBytes,
          `${this.#api.destination} ${address}`,
        ),
      );
    }
    const groupId = address.endsWith(".fifo")
      ? envelope.sessionId ?? envelope.clientId ?? "asyncmcp"
      : undefined;
    return this.#batcher(address).add({ body, attributes, groupId, size });
  }

  /**
   * Waits until everything queued has been sent. The outbox holds no other resources, so it may
   * be shared by many transports and keeps working after this call.
   */
  async close(): Promise<void> {
    await Promise.all([...this.#destinations.values()].map((batcher) => batcher.idle()));
  }

  #batcher(address: string): Batcher<OutgoingMessage> {
    let batcher = this.#destinations.get(address);
    if (!batcher) {
      batcher = new Batcher<OutgoingMessage>({
        maxItems: 10,
        maxBytes: this.#options.maxBatchBytes,
        sizeOf: (message) => message.size,
        // Two batches in flight to a FIFO destination could land out of order.
        maxConcurrent: address.endsWith(".fifo") ? 1 : this.#options.maxConcurrentBatches ?? 2,
        run: async (messages) => {
          if (messages.length > 1) return await this.#api.sendBatch(address, messages);
          try {
            await this.#api.sendOne(address, messages[0]);
            return [undefined];
          } catch (error) {
            return [error instanceof Error ? error : new Error(String(error))];
          }
        },
      });
      this.#destinations.set(address, batcher);
    }
    return batcher;
  }
}

/** A fresh deduplication id for a FIFO destination, or nothing for a standard one. */
export function fifoFields(
  message: OutgoingMessage,
): { MessageGroupId?: string; MessageDeduplicationId?: string } {
  return message.groupId === undefined
    ? {}
    : { MessageGroupId: message.groupId, MessageDeduplicationId: crypto.randomUUID() };
}

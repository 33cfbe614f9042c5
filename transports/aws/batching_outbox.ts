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
} from "../../session/envelope_codec.ts";
import type { Envelope } from "../../session/envelope.ts";
import { BrokerError, MessageTooLargeError } from "../../session/errors.ts";
import type { Outbox } from "../../session/outbox.ts";
import { Batcher } from "./batcher.ts";

/** Destinations whose idle batcher is kept for the next message. */
const IDLE_DESTINATIONS_KEPT = 64;

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
  maxMessageBytes?: number;
  /** Batch calls running at once per destination. @default {2} */
  maxConcurrentBatches?: number;
}

/** The calls of one service that {@linkcode sendApi} wraps. */
export interface ServiceCalls {
  /** Names the destination in errors, e.g. `SQS queue`. */
  destination: string;
  /** The service's limit for one message and for one batch call, in bytes. */
  limitBytes: number;
  /** The single-send operation, e.g. `SQS SendMessage`. */
  one: string;
  /** The batch operation, e.g. `SQS SendMessageBatch`. */
  batch: string;
  /** Sends one message. */
  sendOne(address: string, message: OutgoingMessage): Promise<unknown>;
  /** Sends up to ten; entries carry their index as `Id`. */
  sendBatch(
    address: string,
    messages: OutgoingMessage[],
  ): Promise<
    { Failed?: Array<{ Id?: string; Code?: string; Message?: string; SenderFault?: boolean }> }
  >;
}

/**
 * Builds a {@linkcode SendApi} from a service's two calls, turning whatever they throw, and each
 * failed batch entry, into a `BrokerError` that names the operation and the address.
 *
 * @example
 * ```ts ignore
 * const api = sendApi({ destination: "SQS queue", limitBytes: 1_048_576, one: "SQS SendMessage", ... });
 * ```
 */
export function sendApi(calls: ServiceCalls): SendApi & { limitBytes: number } {
  return {
    destination: calls.destination,
    limitBytes: calls.limitBytes,
    async sendOne(address, message) {
      try {
        await calls.sendOne(address, message);
      } catch (error) {
        throw BrokerError.from(error, { operation: calls.one, address });
      }
    },
    async sendBatch(address, messages) {
      const where = { operation: calls.batch, address };
      try {
        const { Failed } = await calls.sendBatch(address, messages);
        return BrokerError.perEntry(messages.length, Failed, where);
      } catch (error) {
        const failure = BrokerError.from(error, where);
        return messages.map(() => failure);
      }
    },
  };
}

/**
 * An {@linkcode Outbox} over any AWS service with single and batch sends. Messages sent in the
 * same tick, and those sent while every batch slot of their destination is busy, travel in one
 * batch call; a lone message goes out at once as a single call.
 *
 * @example Build an outbox for another service
 * ```ts ignore
 * const outbox = new BatchingOutbox(sendApi(myServiceCalls), { maxMessageBytes: 65_536 });
 * ```
 */
export class BatchingOutbox implements Outbox {
  #api: SendApi & { limitBytes: number };
  #maxMessageBytes: number;
  #maxConcurrentBatches: number;
  #destinations = new Map<string, Batcher<OutgoingMessage>>();

  /**
   * Sends through `api` within its limit, or the lower `maxMessageBytes`.
   *
   * @throws {RangeError} when `maxMessageBytes` is not from 1 to the service's limit.
   */
  constructor(api: SendApi & { limitBytes: number }, options: BatchingOutboxOptions = {}) {
    this.#api = api;
    this.#maxMessageBytes = options.maxMessageBytes ?? api.limitBytes;
    this.#maxConcurrentBatches = options.maxConcurrentBatches ?? 2;
    if (!(this.#maxMessageBytes > 0 && this.#maxMessageBytes <= api.limitBytes)) {
      throw new RangeError(
        `Cannot create outbox for ${api.destination} as 'maxMessageBytes' must be from 1 to ` +
          `${api.limitBytes}: current value is ${this.#maxMessageBytes}`,
      );
    }
  }

  /** Sends one envelope to `address`. */
  send(address: string, envelope: Envelope): Promise<void> {
    const { body, attributes } = encodeAttributes({
      ...envelope,
      timestamp: envelope.timestamp ?? Math.floor(Date.now() / 1000),
    });
    const size = encodedSize(body, attributes);
    if (size > this.#maxMessageBytes) {
      return Promise.reject(
        new MessageTooLargeError(
          size,
          this.#maxMessageBytes,
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
      const created: Batcher<OutgoingMessage> = new Batcher<OutgoingMessage>({
        // Forgotten when idle once many are held: a server that answers many short-lived queues
        // must not keep one batcher per queue forever, nor build one per lone message.
        onIdle: () => {
          if (
            this.#destinations.size > IDLE_DESTINATIONS_KEPT &&
            this.#destinations.get(address) === created
          ) this.#destinations.delete(address);
        },
        maxItems: 10,
        maxBytes: this.#api.limitBytes,
        sizeOf: (message) => message.size,
        // Two batches in flight to a FIFO destination could land out of order.
        maxConcurrent: address.endsWith(".fifo") ? 1 : this.#maxConcurrentBatches,
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
      batcher = created;
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

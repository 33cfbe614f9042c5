/**
 * Sending envelopes to SQS queues, coalesced into `SendMessageBatch` calls when several are ready.
 *
 * @module
 */

import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { encodeAttributes, encodedSize } from "../session/envelope_codec.ts";
import type { Envelope } from "../session/envelope.ts";
import { BrokerError, MessageTooLargeError } from "../session/errors.ts";
import type { Outbox } from "../session/outbox.ts";
import { Batcher } from "./batcher.ts";

/**
 * The largest SQS message (body plus attributes), and the largest batch: 1 MiB.
 *
 * @example
 * ```ts
 * import { SQS_MAX_MESSAGE_BYTES } from "@asyncmcp/asyncmcp/sqs";
 *
 * console.log(SQS_MAX_MESSAGE_BYTES); // 1048576
 * ```
 */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

/** Options for {@linkcode SqsOutbox}. */
export interface SqsOutboxOptions {
  /** The SQS client, with the credentials, region and endpoint to use. */
  sqs: SQSClient;
  /**
   * Largest message sent, body and attributes, in bytes; a larger one fails with
   * `MessageTooLargeError` before any call. Lower it to 262144 for brokers that keep SQS's old
   * limit. @default {1048576} (1 MiB)
   */
  maxMessageBytes?: number;
  /**
   * Batch calls running at once per queue. Fewer means fuller batches under load (messages wait
   * for a free slot together), more means less queueing. @default {2}
   */
  maxConcurrentBatches?: number;
}

interface Entry {
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  groupId?: string;
  size: number;
}

/**
 * An {@linkcode Outbox} whose addresses are SQS queue URLs. Messages sent in the same tick (and
 * while earlier batches are in flight) share one `SendMessageBatch`; a lone one goes out as a
 * plain `SendMessage` at once. For FIFO queues (`.fifo`), `MessageGroupId` is the session id (the
 * client id before there is one) and each message gets a fresh `MessageDeduplicationId`.
 *
 * @example Send one envelope
 * ```ts ignore
 * import { SQSClient } from "@aws-sdk/client-sqs";
 * import { SqsOutbox } from "@asyncmcp/asyncmcp/sqs";
 *
 * const outbox = new SqsOutbox({ sqs: new SQSClient({}) });
 * await outbox.send("https://sqs.us-east-1.amazonaws.com/123456789012/q", {
 *   message: { jsonrpc: "2.0", method: "notifications/initialized" },
 *   sessionId: "abc",
 * });
 * await outbox.close();
 * ```
 */
export class SqsOutbox implements Outbox {
  #sqs: SQSClient;
  #maxMessageBytes: number;
  #maxConcurrent: number;
  #queues = new Map<string, Batcher<Entry>>();

  /** Validates the options. */
  constructor(options: SqsOutboxOptions) {
    this.#sqs = options.sqs;
    this.#maxMessageBytes = options.maxMessageBytes ?? SQS_MAX_MESSAGE_BYTES;
    this.#maxConcurrent = options.maxConcurrentBatches ?? 2;
    if (!(this.#maxMessageBytes > 0 && this.#maxMessageBytes <= SQS_MAX_MESSAGE_BYTES)) {
      throw new RangeError(
        `Cannot create SQS outbox as 'maxMessageBytes' must be from 1 to ${SQS_MAX_MESSAGE_BYTES}: current value is ${this.#maxMessageBytes}`,
      );
    }
  }

  /** Sends one envelope to the queue at `queueUrl`. */
  send(queueUrl: string, envelope: Envelope): Promise<void> {
    const { body, attributes } = encodeAttributes({
      ...envelope,
      timestamp: envelope.timestamp ?? Math.floor(Date.now() / 1000),
    });
    const size = encodedSize(body, attributes);
    if (size > this.#maxMessageBytes) {
      return Promise.reject(
        new MessageTooLargeError(size, this.#maxMessageBytes, `SQS queue ${queueUrl}`),
      );
    }
    const groupId = queueUrl.endsWith(".fifo")
      ? envelope.sessionId ?? envelope.clientId ?? "asyncmcp"
      : undefined;
    return this.#batcher(queueUrl).add({ body, attributes, groupId, size });
  }

  /**
   * Waits until everything queued has been sent. The outbox holds no other resources, so it may
   * be shared by many transports and keeps working after this call.
   */
  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((batcher) => batcher.idle()));
  }

  #batcher(queueUrl: string): Batcher<Entry> {
    let batcher = this.#queues.get(queueUrl);
    if (!batcher) {
      batcher = new Batcher<Entry>({
        maxItems: 10,
        maxBytes: SQS_MAX_MESSAGE_BYTES,
        sizeOf: (entry) => entry.size,
        maxConcurrent: this.#maxConcurrent,
        run: (entries) => this.#sendBatch(queueUrl, entries),
      });
      this.#queues.set(queueUrl, batcher);
    }
    return batcher;
  }

  async #sendBatch(queueUrl: string, entries: Entry[]): Promise<Array<Error | undefined>> {
    const fifo = (entry: Entry) =>
      entry.groupId === undefined
        ? {}
        : { MessageGroupId: entry.groupId, MessageDeduplicationId: crypto.randomUUID() };
    if (entries.length === 1) {
      const [entry] = entries;
      try {
        await this.#sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: entry.body,
            MessageAttributes: entry.attributes,
            ...fifo(entry),
          }),
        );
        return [undefined];
      } catch (error) {
        return [BrokerError.from(error, { operation: "SQS SendMessage", address: queueUrl })];
      }
    }
    const batch: SendMessageBatchRequestEntry[] = entries.map((entry, index) => ({
      Id: String(index),
      MessageBody: entry.body,
      MessageAttributes: entry.attributes,
      ...fifo(entry),
    }));
    let result;
    try {
      result = await this.#sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch }),
      );
    } catch (error) {
      const failure = BrokerError.from(error, {
        operation: "SQS SendMessageBatch",
        address: queueUrl,
      });
      return entries.map(() => failure);
    }
    const errors: Array<Error | undefined> = entries.map(() => undefined);
    for (const failed of result.Failed ?? []) {
      errors[Number(failed.Id)] = new BrokerError(
        `SQS SendMessageBatch failed for ${queueUrl}: ${failed.Message ?? failed.Code}`,
        {
          operation: "SQS SendMessageBatch",
          address: queueUrl,
          code: failed.Code,
          retryable: failed.SenderFault !== true,
        },
      );
    }
    return errors;
  }
}

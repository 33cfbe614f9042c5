/**
 * Sending envelopes to SQS queues, coalesced into `SendMessageBatch` calls when several are ready.
 *
 * @module
 */

import type { SQSClient } from "@aws-sdk/client-sqs";
import type { AwsHttpOptions } from "../aws/aws_http.ts";
import { BatchingOutbox, fifoFields, sendApi } from "../aws/batching_outbox.ts";
import { sqsCalls } from "../aws/sqs_calls.ts";

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
export interface SqsOutboxOptions extends AwsHttpOptions {
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

/**
 * An outbox whose addresses are SQS queue URLs. Messages sent in the same tick (and while
 * earlier batches are in flight) share one `SendMessageBatch`; a lone one goes out as a plain
 * `SendMessage` at once. For FIFO queues (`.fifo`), `MessageGroupId` is the session id (the
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
export class SqsOutbox extends BatchingOutbox {
  /** Validates the options. */
  constructor(options: SqsOutboxOptions) {
    const calls = sqsCalls(options.sqs, options.awsHttp);
    super(
      sendApi({
        destination: "SQS queue",
        limitBytes: SQS_MAX_MESSAGE_BYTES,
        one: "SQS SendMessage",
        batch: "SQS SendMessageBatch",
        sendOne: (queueUrl, message) =>
          calls.sendMessage({
            QueueUrl: queueUrl,
            MessageBody: message.body,
            MessageAttributes: message.attributes,
            ...fifoFields(message),
          }),
        sendBatch: (queueUrl, messages) =>
          calls.sendMessageBatch({
            QueueUrl: queueUrl,
            Entries: messages.map((message, index) => ({
              Id: String(index),
              MessageBody: message.body,
              MessageAttributes: message.attributes,
              ...fifoFields(message),
            })),
          }),
      }),
      options,
    );
  }
}

/**
 * Publishing envelopes to SNS topics, coalesced into `PublishBatch` calls when several are ready.
 *
 * @module
 */

import type { SNSClient } from "@aws-sdk/client-sns";
import type { AwsHttpOptions } from "../aws/aws_http.ts";
import { BatchingOutbox, fifoFields, sendApi } from "../aws/batching_outbox.ts";
import { snsCalls } from "../aws/sns_calls.ts";

/**
 * The largest SNS message (body plus attributes), and the largest `PublishBatch`: 256 KiB.
 *
 * @example
 * ```ts
 * import { SNS_MAX_MESSAGE_BYTES } from "@asyncmcp/asyncmcp/sns-sqs";
 *
 * console.log(SNS_MAX_MESSAGE_BYTES); // 262144
 * ```
 */
export const SNS_MAX_MESSAGE_BYTES = 262_144;

/** Options for {@linkcode SnsOutbox}. */
export interface SnsOutboxOptions extends AwsHttpOptions {
  /** The SNS client, with the credentials, region and endpoint to use. */
  sns: SNSClient;
  /** Largest message published, body and attributes, in bytes. @default {262144} (256 KiB) */
  maxMessageBytes?: number;
  /** Batch calls running at once per topic. @default {2} */
  maxConcurrentBatches?: number;
}

/**
 * An outbox whose addresses are SNS topic ARNs: `Publish` for a lone message, `PublishBatch` for
 * several ready at once. A message over 256 KiB fails with `MessageTooLargeError` before any call.
 * FIFO topics (`.fifo`) get the session id as `MessageGroupId` and a fresh deduplication id.
 *
 * @example Publish one envelope
 * ```ts ignore
 * import { SNSClient } from "@aws-sdk/client-sns";
 * import { SnsOutbox } from "@asyncmcp/asyncmcp/sns-sqs";
 *
 * const outbox = new SnsOutbox({ sns: new SNSClient({}) });
 * await outbox.send("arn:aws:sns:us-east-1:123456789012:mcp-requests", {
 *   message: { jsonrpc: "2.0", id: 1, method: "ping" },
 *   sessionId: "abc",
 * });
 * ```
 */
export class SnsOutbox extends BatchingOutbox {
  /** Validates the options. */
  constructor(options: SnsOutboxOptions) {
    const calls = snsCalls(options.sns, options.awsHttp);
    super(
      sendApi({
        destination: "SNS topic",
        limitBytes: SNS_MAX_MESSAGE_BYTES,
        one: "SNS Publish",
        batch: "SNS PublishBatch",
        sendOne: (topicArn, message) =>
          calls.publish({
            TopicArn: topicArn,
            Message: message.body,
            MessageAttributes: message.attributes,
            ...fifoFields(message),
          }),
        sendBatch: (topicArn, messages) =>
          calls.publishBatch({
            TopicArn: topicArn,
            PublishBatchRequestEntries: messages.map((message, index) => ({
              Id: String(index),
              Message: message.body,
              MessageAttributes: message.attributes,
              ...fifoFields(message),
            })),
          }),
      }),
      options,
    );
  }
}

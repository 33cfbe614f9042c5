/**
 * Wake messages: how a closing poller ends its own long poll instead of abandoning it. A broker
 * keeps serving a long poll whose caller has gone (until its `WaitTimeSeconds` ends), and hands it
 * the next message, which then stays hidden for its visibility timeout: a reply meant for the
 * next process on the same queue.
 *
 * @module
 */

import { type Message, SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";

/** The body of a wake message: not JSON-RPC, so that no MCP peer mistakes it for a message. */
const WAKE_BODY = '{"asyncmcp":"wake"}';

/**
 * Whether `message` is a wake message, which every reader deletes unseen.
 *
 * @example
 * ```ts
 * import { isWake } from "./sqs_wake.ts";
 *
 * console.log(isWake({ Body: '{"jsonrpc":"2.0","method":"ping"}' })); // false
 * ```
 */
export function isWake(message: Message): boolean {
  return message.Body === WAKE_BODY;
}

/**
 * Sends `count` wake messages to `queueUrl` (at most 10: one batch), one for each long poll to end.
 *
 * @throws {Error} what the SQS client throws (no `sqs:SendMessage` on the queue, ...).
 *
 * @example
 * ```ts ignore
 * await sendWakes(sqs, "https://sqs.us-east-1.amazonaws.com/123456789012/replies", 1);
 * ```
 */
export async function sendWakes(sqs: SQSClient, queueUrl: string, count: number): Promise<void> {
  const fifo = queueUrl.endsWith(".fifo");
  const { Failed = [] } = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: Array.from({ length: Math.min(Math.max(count, 1), 10) }, (_, index) => ({
        Id: String(index),
        MessageBody: WAKE_BODY,
        ...(fifo
          ? {
            MessageGroupId: `asyncmcp-wake-${index}`,
            MessageDeduplicationId: crypto.randomUUID(),
          }
          : {}),
      })),
    }),
  );
  if (Failed.length > 0) {
    throw new Error(
      `Cannot send wake message to ${queueUrl}: ${Failed[0].Code} ${Failed[0].Message ?? ""}`,
    );
  }
}

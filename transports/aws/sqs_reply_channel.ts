/**
 * The reply channel of SQS-reading clients: one poller per response queue in a process, shared by
 * every client transport that names that queue.
 *
 * @module
 */

import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Logger } from "../../session/logger.ts";
import { ReplyRouter } from "../../session/reply_router.ts";
import { SqsInbox, type SqsPollOptions } from "./sqs_inbox.ts";

/** Options for {@linkcode sqsReplyRouter}. */
export interface SqsReplyChannelOptions extends SqsPollOptions {
  /** The SQS client that reads the queue. */
  sqs: SQSClient;
  /** The response queue. */
  queueUrl: string;
  /** Where events are logged. */
  logger?: Logger;
}

const routers = new WeakMap<SQSClient, Map<string, ReplyRouter>>();

/** Seconds a received reply stays hidden unless settled, unless the caller says otherwise. */
const REPLY_VISIBILITY_TIMEOUT_SECONDS = 5;

/** How long a reply's deletion waits for others to travel with, in ms, unless told otherwise. */
const REPLY_ACKNOWLEDGE_DELAY_MS = 50;

/**
 * The process-wide reply router for (SQS client, response queue): created on first use, forgotten
 * once its last client has detached, so a later client starts a fresh poller.
 *
 * @example
 * ```ts ignore
 * const router = sqsReplyRouter({ sqs, queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/replies" });
 * ```
 */
export function sqsReplyRouter(options: SqsReplyChannelOptions): ReplyRouter {
  let byQueue = routers.get(options.sqs);
  if (!byQueue) routers.set(options.sqs, byQueue = new Map());
  const queues = byQueue;
  let router = queues.get(options.queueUrl);
  if (!router) {
    const created: ReplyRouter = new ReplyRouter(
      new SqsInbox({
        // Replies are settled on arrival, so a short hiding time costs nothing; it bounds how
        // long a reply stays hidden when a long poll that close() could not wake took it anyway.
        visibilityTimeoutSeconds: REPLY_VISIBILITY_TIMEOUT_SECONDS,
        // A restarted process (a desktop client's stdio proxy) reads the same queue at once: a
        // poll left behind would take its first reply and hide it.
        wakeOnClose: true,
        // Deleting a reply is nobody's wait: ten at a time cost the broker one call, not ten.
        acknowledgeDelayMs: REPLY_ACKNOWLEDGE_DELAY_MS,
        ...options,
        onerror: (error) => created.fail(error),
      }),
      {
        logger: options.logger,
        // Forget it as soon as it starts closing: a client created meanwhile gets a fresh one.
        onClose: () => {
          if (queues.get(options.queueUrl) === created) queues.delete(options.queueUrl);
        },
      },
    );
    queues.set(options.queueUrl, router = created);
  }
  return router;
}

/**
 * The queue transports under test: the queues and topics of one run, the client transports that
 * reach each server process, and a raw broker round trip of the same kind.
 *
 * @module
 */

import type { SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { ClientTransport } from "../session/client_transport.ts";
import { snsCalls } from "../transports/aws/sns_calls.ts";
import { sqsCalls } from "../transports/aws/sqs_calls.ts";
import {
  ensureQueue,
  ensureTopic,
  SnsSqsClientTransport,
  subscribeQueue,
} from "../transports/sns_sqs/mod.ts";
import { SqsClientTransport } from "../transports/sqs/mod.ts";

/** The servers a target runs: 2025 sessions (SDK v1), 2026-07-28 (SDK v2), an idle one. */
export type ServerRole = "session" | "modern" | "idle";

/** A client's reply channel: a queue of its own (0, 1, ...), or one shared by every client. */
export type Channel = number | "shared";

/** One transport under test. */
export interface Target {
  /** The column's name: `SQS` or `SNS+SQS`. */
  name: string;
  /** The server process's transport. */
  transport: "sqs" | "sns-sqs";
  /** The queue each server process reads. */
  serverQueue: Record<ServerRole, string>;
  /** The raw pipeline's addresses: where its client sends and reads, where its server does. */
  raw: { requestAddress: string; serverQueue: string; replyAddress: string; replyQueue: string };
  /** A client transport to the `role` server, replying on `channel`. */
  clientTransport(
    sqs: SQSClient,
    sns: SNSClient,
    role: ServerRole,
    channel: Channel,
  ): ClientTransport;
  /** One raw broker round trip through the same kind of channel, in ms. */
  rawRoundTrip(sqs: SQSClient, sns: SNSClient): Promise<number>;
}

/** Options shared by every client transport of the run (`pollers`, ...). */
export type ClientOptions = Record<string, unknown>;

/**
 * Send (or publish) one message while a long poll waits on `queueUrl`; time until it returns.
 * The calls take the same path as the transports (`ASYNCMCP_AWS_HTTP`), so that the ratio
 * compares like with like.
 */
async function timeRoundTrip(
  sqs: SQSClient,
  queueUrl: string,
  send: () => Promise<unknown>,
): Promise<number> {
  const calls = sqsCalls(sqs);
  const receiving = calls.receiveMessage({
    QueueUrl: queueUrl,
    WaitTimeSeconds: 20,
    MaxNumberOfMessages: 10,
    MessageAttributeNames: ["All"],
  });
  await new Promise((resolve) => setTimeout(resolve, 1));
  const started = performance.now();
  await send();
  const { Messages = [] } = await receiving;
  const elapsed = performance.now() - started;
  if (Messages.length > 0) {
    await calls.deleteMessageBatch({
      QueueUrl: queueUrl,
      Entries: Messages.map((message, index) => ({
        Id: String(index),
        ReceiptHandle: message.ReceiptHandle!,
      })),
    });
  }
  return elapsed;
}

const queues = (setup: SQSClient, names: string[]) =>
  Promise.all(names.map(async (name) => (await ensureQueue(setup, name)).url));

/**
 * SQS: a request queue per server, `channels` reply queues and one shared by every client.
 *
 * @example
 * ```ts ignore
 * const target = await sqsTarget(setup, "run1", 10, { pollers: 4 });
 * ```
 */
export async function sqsTarget(
  setup: SQSClient,
  run: string,
  channels: number,
  clientOptions: ClientOptions = {},
): Promise<Target> {
  const [session, modern, idle, raw, rawRequests, rawReplies, shared] = await queues(setup, [
    `bench-requests-${run}`,
    `bench-modern-${run}`,
    `bench-idle-${run}`,
    `bench-raw-${run}`,
    `bench-raw-requests-${run}`,
    `bench-raw-replies-${run}`,
    `bench-replies-shared-${run}`,
  ]);
  const replies = await queues(
    setup,
    Array.from({ length: channels }, (_, i) => `bench-replies-${i}-${run}`),
  );
  const serverQueue = { session, modern, idle };
  return {
    name: "SQS",
    transport: "sqs",
    serverQueue,
    raw: {
      requestAddress: rawRequests,
      serverQueue: rawRequests,
      replyAddress: rawReplies,
      replyQueue: rawReplies,
    },
    clientTransport: (sqs, _sns, role, channel) =>
      new SqsClientTransport({
        sqs,
        requestQueueUrl: serverQueue[role],
        responseQueueUrl: channel === "shared" ? shared : replies[channel],
        ...clientOptions,
      }),
    rawRoundTrip: (sqs) =>
      timeRoundTrip(
        sqs,
        raw,
        () => sqsCalls(sqs).sendMessage({ QueueUrl: raw, MessageBody: "{}" }),
      ),
  };
}

/**
 * SNS+SQS: a request topic and queue per server, a reply topic with a filtered queue per
 * channel, and a reply topic whose one queue is shared by every client.
 *
 * @example
 * ```ts ignore
 * const target = await snsTarget(setup, sns, "run1", 10, {});
 * ```
 */
export async function snsTarget(
  setup: SQSClient,
  sns: SNSClient,
  run: string,
  channels: number,
  clientOptions: ClientOptions = {},
): Promise<Target> {
  const subscribed = async (topicArn: string, name: string, clientId?: string) => {
    const queue = await ensureQueue(setup, name);
    await subscribeQueue({ sns, sqs: setup, topicArn, queue, clientId });
    return queue.url;
  };
  const topics = async (name: string) => await ensureTopic(sns, `bench-${name}-${run}`);
  const requestTopic = { session: await topics("requests"), modern: await topics("modern") };
  const serverQueue = {
    session: await subscribed(requestTopic.session, `bench-server-${run}`),
    modern: await subscribed(requestTopic.modern, `bench-modern-server-${run}`),
    idle: (await ensureQueue(setup, `bench-sns-idle-${run}`)).url,
  };
  const replyTopic = await topics("replies");
  const replies = await Promise.all(
    Array.from(
      { length: channels },
      (_, i) => subscribed(replyTopic, `bench-sns-replies-${i}-${run}`, `client-${i}`),
    ),
  );
  // A topic of its own: an unfiltered queue on the clients' topic would also get every reply to
  // the other clients, which its reader would keep handing back.
  const sharedTopic = await topics("shared-replies");
  const shared = await subscribed(sharedTopic, `bench-sns-shared-${run}`);
  const rawTopic = await topics("raw");
  const rawQueue = await subscribed(rawTopic, `bench-sns-raw-${run}`);
  const rawRequestTopic = await topics("raw-requests");
  const rawReplyTopic = await topics("raw-replies");
  const raw = {
    requestAddress: rawRequestTopic,
    serverQueue: await subscribed(rawRequestTopic, `bench-sns-raw-requests-${run}`),
    replyAddress: rawReplyTopic,
    replyQueue: await subscribed(rawReplyTopic, `bench-sns-raw-replies-${run}`),
  };
  let next = 0;
  return {
    name: "SNS+SQS",
    transport: "sns-sqs",
    serverQueue,
    raw,
    clientTransport: (sqs, sns, role, channel) =>
      new SnsSqsClientTransport({
        sqs,
        sns,
        requestTopicArn: requestTopic[role === "idle" ? "session" : role],
        responseTopicArn: channel === "shared" ? sharedTopic : replyTopic,
        responseQueueUrl: channel === "shared" ? shared : replies[channel],
        // The shared queue has no filter; each own queue lets its client's id through.
        clientId: channel === "shared" ? `shared-${next++}` : `client-${channel}`,
        ...clientOptions,
      }),
    rawRoundTrip: (sqs, sns) =>
      timeRoundTrip(
        sqs,
        rawQueue,
        () => snsCalls(sns).publish({ TopicArn: rawTopic, Message: "{}" }),
      ),
  };
}

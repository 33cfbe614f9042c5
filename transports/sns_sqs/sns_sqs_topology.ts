/**
 * Creating the topics, queues, subscriptions and queue policies of an SNS+SQS deployment,
 * idempotently, on AWS, LocalStack or the embedded broker.
 *
 * @module
 */

import {
  CreateTopicCommand,
  ListSubscriptionsByTopicCommand,
  SetSubscriptionAttributesCommand,
  type SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { ATTRIBUTE } from "../../session/envelope_codec.ts";
import { BrokerError } from "../../session/errors.ts";

/** A queue's two names. */
export interface QueueAddress {
  /** The queue URL, for SQS calls. */
  url: string;
  /** The queue ARN, for subscriptions and policies. */
  arn: string;
}

/**
 * Creates the queue, or finds it when it exists, and returns its URL and ARN. A name ending in
 * `.fifo` makes a FIFO queue.
 *
 * @example
 * ```ts ignore
 * const queue = await ensureQueue(sqs, "mcp-server");
 * ```
 */
export async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string> = {},
): Promise<QueueAddress> {
  return await call("SQS CreateQueue", name, async () => {
    const fifo = name.endsWith(".fifo") ? { FifoQueue: "true" } : {};
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: { ...fifo, ...attributes } }),
    );
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    return { url: QueueUrl!, arn: Attributes!.QueueArn! };
  });
}

/**
 * Creates the topic, or finds it when it exists, and returns its ARN. A name ending in `.fifo`
 * makes a FIFO topic.
 *
 * @example
 * ```ts ignore
 * const topicArn = await ensureTopic(sns, "mcp-requests");
 * ```
 */
export async function ensureTopic(sns: SNSClient, name: string): Promise<string> {
  return await call("SNS CreateTopic", name, async () => {
    const fifo = name.endsWith(".fifo") ? { FifoTopic: "true" } : undefined;
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name, Attributes: fifo }));
    return TopicArn!;
  });
}

/** Options for {@linkcode subscribeQueue}. */
export interface SubscribeQueueOptions {
  /** The SNS client. */
  sns: SNSClient;
  /** The SQS client, to grant the topic the right to send to the queue. */
  sqs: SQSClient;
  /** The topic to subscribe to. */
  topicArn: string;
  /** The queue that receives the topic's messages. */
  queue: QueueAddress;
  /** Deliver the message itself instead of SNS's JSON envelope. @default {true} */
  rawMessageDelivery?: boolean;
  /**
   * Only messages whose `ClientId` attribute is this value (or that carry no `ClientId`, as the
   * Python asyncmcp server's do) reach the queue. Without it, an existing filter is removed.
   */
  clientId?: string;
}

/**
 * Subscribes `queue` to `topicArn` (or updates the existing subscription to the given delivery
 * and filter settings) and adds a statement to the queue's policy that lets that topic send to
 * it. Running it again changes nothing. Returns the subscription ARN.
 *
 * @example Give one client of a shared reply topic its own filtered queue
 * ```ts ignore
 * await subscribeQueue({ sns, sqs, topicArn: replyTopicArn, queue: clientQueue, clientId: "client-1" });
 * ```
 */
export async function subscribeQueue(options: SubscribeQueueOptions): Promise<string> {
  const { sns, sqs, topicArn, queue } = options;
  await allowTopicToSend(sqs, queue, topicArn);
  const attributes: Record<string, string> = {
    RawMessageDelivery: String(options.rawMessageDelivery ?? true),
  };
  if (options.clientId !== undefined) {
    // Peers that echo no ClientId (the Python server) still reach every client's queue; the
    // client transport then keeps only its own session's messages.
    attributes.FilterPolicy = JSON.stringify({
      [ATTRIBUTE.CLIENT_ID]: [options.clientId, { exists: false }],
    });
  }
  return await call("SNS Subscribe", topicArn, async () => {
    let next: string | undefined;
    do {
      const page = await sns.send(
        new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: next }),
      );
      const existing = page.Subscriptions?.find((subscription) =>
        subscription.Protocol === "sqs" && subscription.Endpoint === queue.arn
      );
      if (existing?.SubscriptionArn) {
        // A filter from an earlier run without the same client id would drop this client's
        // replies: an empty policy lets everything through.
        const update = { FilterPolicy: "{}", ...attributes };
        for (const [name, value] of Object.entries(update)) {
          await sns.send(
            new SetSubscriptionAttributesCommand({
              SubscriptionArn: existing.SubscriptionArn,
              AttributeName: name,
              AttributeValue: value,
            }),
          );
        }
        return existing.SubscriptionArn;
      }
      next = page.NextToken;
    } while (next);
    const { SubscriptionArn } = await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: "sqs",
        Endpoint: queue.arn,
        Attributes: attributes,
        ReturnSubscriptionArn: true,
      }),
    );
    return SubscriptionArn!;
  });
}

/** Options for {@linkcode ensureSnsSqsTopology}; every name is created when missing. */
export interface SnsSqsTopologyOptions {
  /** The SQS client. */
  sqs: SQSClient;
  /** The SNS client. */
  sns: SNSClient;
  /** Name of the topic clients publish requests to. */
  requestTopic: string;
  /** Name of the server's queue, subscribed to the request topic. */
  serverQueue: string;
  /** Name of the topic the server publishes this client's answers to (may be shared). */
  replyTopic: string;
  /** Name of this client's queue, subscribed to the reply topic. */
  clientQueue: string;
  /**
   * When set, the client's subscription has a filter policy on this `ClientId`, so many clients
   * can share one reply topic and each receives only its own answers.
   */
  clientId?: string;
  /** Names of further queues subscribed to the request topic; they see every request (fan-out). */
  auditQueues?: string[];
  /** Subscriptions deliver raw messages (else SNS's JSON envelope). @default {true} */
  rawMessageDelivery?: boolean;
}

/** What {@linkcode ensureSnsSqsTopology} created or found. */
export interface SnsSqsTopology {
  /** For the client's `requestTopicArn`. */
  requestTopicArn: string;
  /** For the server's `requestQueueUrl`. */
  requestQueueUrl: string;
  /** For the client's `responseTopicArn`. */
  responseTopicArn: string;
  /** For the client's `responseQueueUrl`. */
  responseQueueUrl: string;
  /** The audit queues' URLs, in the order given. */
  auditQueueUrls: string[];
}

/**
 * Creates (or finds) everything an SNS+SQS server and one client need: the request topic and the
 * server's queue subscribed to it, the reply topic and the client's queue subscribed to that, the
 * queue policies that let SNS deliver, and optional audit queues on the request topic. Safe to run
 * again; returns the addresses to pass to `SnsSqsServer` and `SnsSqsClientTransport`.
 *
 * @example Provision and connect
 * ```ts ignore
 * const topology = await ensureSnsSqsTopology({
 *   sqs,
 *   sns,
 *   requestTopic: "mcp-requests",
 *   serverQueue: "mcp-server",
 *   replyTopic: "mcp-replies",
 *   clientQueue: "mcp-replies-client-1",
 *   clientId: "client-1",
 * });
 * ```
 */
export async function ensureSnsSqsTopology(
  options: SnsSqsTopologyOptions,
): Promise<SnsSqsTopology> {
  const { sqs, sns } = options;
  const raw = options.rawMessageDelivery ?? true;
  const [requestTopicArn, responseTopicArn] = await Promise.all([
    ensureTopic(sns, options.requestTopic),
    ensureTopic(sns, options.replyTopic),
  ]);
  const [serverQueue, clientQueue, ...auditQueues] = await Promise.all(
    [options.serverQueue, options.clientQueue, ...(options.auditQueues ?? [])].map((name) =>
      ensureQueue(sqs, name)
    ),
  );
  await subscribeQueue({
    sns,
    sqs,
    topicArn: requestTopicArn,
    queue: serverQueue,
    rawMessageDelivery: raw,
  });
  await subscribeQueue({
    sns,
    sqs,
    topicArn: responseTopicArn,
    queue: clientQueue,
    rawMessageDelivery: raw,
    clientId: options.clientId,
  });
  for (const queue of auditQueues) {
    await subscribeQueue({ sns, sqs, topicArn: requestTopicArn, queue, rawMessageDelivery: raw });
  }
  return {
    requestTopicArn,
    requestQueueUrl: serverQueue.url,
    responseTopicArn,
    responseQueueUrl: clientQueue.url,
    auditQueueUrls: auditQueues.map((queue) => queue.url),
  };
}

interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Principal: unknown;
  Action: string | string[];
  Resource: string;
  Condition?: unknown;
}

async function allowTopicToSend(
  sqs: SQSClient,
  queue: QueueAddress,
  topicArn: string,
): Promise<void> {
  await call("SQS SetQueueAttributes", queue.url, async () => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ["Policy"] }),
    );
    const policy: { Version: string; Statement: PolicyStatement | PolicyStatement[] } =
      Attributes?.Policy ? JSON.parse(Attributes.Policy) : { Version: "2012-10-17", Statement: [] };
    // IAM allows a single statement object as well as a list.
    policy.Statement = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
    const granted = policy.Statement.some((statement) =>
      JSON.stringify(statement.Condition) ===
        JSON.stringify({ ArnEquals: { "aws:SourceArn": topicArn } })
    );
    if (granted) return;
    const sid = `asyncmcp${await shortHash(topicArn)}`;
    policy.Statement.push({
      Sid: sid,
      Effect: "Allow",
      Principal: { Service: "sns.amazonaws.com" },
      Action: "sqs:SendMessage",
      Resource: queue.arn,
      Condition: { ArnEquals: { "aws:SourceArn": topicArn } },
    });
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queue.url,
        Attributes: { Policy: JSON.stringify(policy) },
      }),
    );
  });
}

async function shortHash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest).slice(0, 12)]
    .map((byte) => byte.toString(16).padStart(2, "0"))
    .join("");
}

async function call<T>(operation: string, address: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw BrokerError.from(error, { operation, address });
  }
}

/**
 * The setup command: creates the queues, topics, subscriptions and queue policies a transport
 * needs, idempotently (what exists is found, not duplicated), reporting each step.
 *
 * @module
 */

import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import {
  ensureQueue,
  ensureTopic,
  subscribeQueue,
} from "../transports/sns_sqs/sns_sqs_topology.ts";
import { awsConfig } from "./aws_config.ts";
import { UsageError } from "./usage_error.ts";

/** What setup creates, by name. */
export interface SetupFlags {
  transport: "sqs" | "sns-sqs";
  /** The prefix of every name. @default {"mcp"} */
  prefix: string;
}

/** The addresses setup made or found, as environment variables for the server, client and proxy. */
export type SetupResult = Record<string, string>;

/**
 * Creates (or finds) what `flags.transport` needs; `progress` hears each step as it starts and
 * ends.
 *
 * @throws {UsageError} for an unknown transport.
 */
export async function setup(
  flags: SetupFlags,
  progress: (step: string, done?: boolean) => void,
): Promise<SetupResult> {
  const sqs = new SQSClient(awsConfig());
  const sns = new SNSClient(awsConfig());
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    progress(name);
    const result = await work();
    progress(name, true);
    return result;
  };
  try {
    const { prefix } = flags;
    if (flags.transport === "sqs") {
      const requests = await step(
        `queue ${prefix}-requests`,
        () => ensureQueue(sqs, `${prefix}-requests`),
      );
      const responses = await step(
        `queue ${prefix}-responses`,
        () => ensureQueue(sqs, `${prefix}-responses`),
      );
      return { REQUEST_QUEUE_URL: requests.url, RESPONSE_QUEUE_URL: responses.url };
    }
    if (flags.transport === "sns-sqs") {
      const requestTopicArn = await step(
        `topic ${prefix}-requests`,
        () => ensureTopic(sns, `${prefix}-requests`),
      );
      const responseTopicArn = await step(
        `topic ${prefix}-responses`,
        () => ensureTopic(sns, `${prefix}-responses`),
      );
      const serverQueue = await step(
        `queue ${prefix}-server`,
        () => ensureQueue(sqs, `${prefix}-server`),
      );
      const clientQueue = await step(
        `queue ${prefix}-client`,
        () => ensureQueue(sqs, `${prefix}-client`),
      );
      await step(
        `subscription ${prefix}-requests → ${prefix}-server (and its queue policy)`,
        () =>
          subscribeQueue({
            sns,
            sqs,
            topicArn: requestTopicArn,
            queue: serverQueue,
            rawMessageDelivery: true,
          }),
      );
      await step(
        `subscription ${prefix}-responses → ${prefix}-client (and its queue policy)`,
        () =>
          subscribeQueue({
            sns,
            sqs,
            topicArn: responseTopicArn,
            queue: clientQueue,
            rawMessageDelivery: true,
          }),
      );
      return {
        REQUEST_TOPIC_ARN: requestTopicArn,
        REQUEST_QUEUE_URL: serverQueue.url,
        RESPONSE_TOPIC_ARN: responseTopicArn,
        RESPONSE_QUEUE_URL: clientQueue.url,
      };
    }
    throw new UsageError(`setup knows sqs and sns-sqs, not ${flags.transport}`);
  } finally {
    sqs.destroy();
    sns.destroy();
  }
}

/**
 * The proxy command's back ends, built from command-line flags: one reply channel per process
 * (one response queue, one reply topic's queue, one webhook receiver), shared by every session.
 *
 * @module
 */

import { SNSClient } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Transport } from "../sdk.ts";
import type { Logger } from "../session/logger.ts";
import { SnsSqsClientTransport } from "../transports/sns_sqs/sns_sqs_client_transport.ts";
import { SqsClientTransport } from "../transports/sqs/sqs_client_transport.ts";
import { StreamableHttpWebhookClientTransport } from "../transports/streamable_http_webhook/streamable_http_webhook_client_transport.ts";
import { WebhookClientTransport } from "../transports/webhook/webhook_client_transport.ts";
import { WebhookReceiver } from "../transports/webhook/webhook_receiver.ts";
import { awsConfig } from "./aws_config.ts";
import { listenError } from "./listen_error.ts";
import { UsageError } from "./usage_error.ts";

/** The back ends the proxy command knows. */
export const BACKENDS = ["sqs", "sns-sqs", "webhook", "streamable-http-webhook"] as const;

/** One of {@linkcode BACKENDS}. */
export type BackendName = typeof BACKENDS[number];

/** The flags that describe a back end (absent ones are taken from the environment). */
export interface BackendFlags {
  backend: BackendName;
  requestQueueUrl?: string;
  responseQueueUrl?: string;
  requestTopicArn?: string;
  responseTopicArn?: string;
  serverUrl?: string;
  webhookUrl?: string;
  webhookHost?: string;
  webhookPort?: number;
  webhookSecret?: string;
}

/** Makes back-end transports that share one reply channel; `close` releases it. */
export interface Backend {
  make(): Transport;
  /** What the back end talks to, for the start-up line. */
  describe: string;
  /** Where requests go (queue URL, topic ARN, server URL), named when no server answers. */
  address: string;
  close(): Promise<void>;
}

function required(value: string | undefined, flag: string, env: string): string {
  const found = value ?? Deno.env.get(env);
  if (!found) throw new UsageError(`--${flag} is required for this back end (or set ${env})`);
  return found;
}

/**
 * Builds the back end the flags name and checks that it can be reached.
 *
 * @throws {UsageError} for a missing or contradictory flag.
 * @throws {Error} when the queue or server cannot be reached.
 */
export async function openBackend(flags: BackendFlags, logger: Logger): Promise<Backend> {
  switch (flags.backend) {
    case "sqs": {
      const requestQueueUrl = required(
        flags.requestQueueUrl,
        "request-queue-url",
        "REQUEST_QUEUE_URL",
      );
      const responseQueueUrl = required(
        flags.responseQueueUrl,
        "response-queue-url",
        "RESPONSE_QUEUE_URL",
      );
      const sqs = new SQSClient(awsConfig());
      await reachQueue(sqs, requestQueueUrl);
      await reachQueue(sqs, responseQueueUrl);
      return {
        describe: `SQS ${requestQueueUrl}`,
        address: requestQueueUrl,
        make: () => new SqsClientTransport({ sqs, requestQueueUrl, responseQueueUrl, logger }),
        close: () => Promise.resolve(sqs.destroy()),
      };
    }
    case "sns-sqs": {
      const requestTopicArn = required(
        flags.requestTopicArn,
        "request-topic-arn",
        "REQUEST_TOPIC_ARN",
      );
      const responseTopicArn = required(
        flags.responseTopicArn,
        "response-topic-arn",
        "RESPONSE_TOPIC_ARN",
      );
      const responseQueueUrl = required(
        flags.responseQueueUrl,
        "response-queue-url",
        "RESPONSE_QUEUE_URL",
      );
      const sqs = new SQSClient(awsConfig());
      const sns = new SNSClient(awsConfig());
      await reachQueue(sqs, responseQueueUrl);
      return {
        describe: `SNS ${requestTopicArn}`,
        address: requestTopicArn,
        make: () =>
          new SnsSqsClientTransport({
            sqs,
            sns,
            requestTopicArn,
            responseTopicArn,
            responseQueueUrl,
            logger,
          }),
        close: () => Promise.resolve((sqs.destroy(), sns.destroy())),
      };
    }
    case "webhook":
    case "streamable-http-webhook": {
      const serverUrl = required(flags.serverUrl, "server-url", "SERVER_URL");
      if (!URL.canParse(serverUrl)) throw new UsageError(`--server-url is not a URL: ${serverUrl}`);
      const signingKey = flags.webhookSecret ?? Deno.env.get("WEBHOOK_SECRET");
      const receiver = new WebhookReceiver({ signingKey, logger });
      const hostname = flags.webhookHost ?? "127.0.0.1";
      const port = flags.webhookPort ?? 0;
      const listening = await receiver.listen({ hostname, port }).catch((error) => {
        throw listenError(error, hostname, port, "--webhook-port");
      });
      const webhookUrl = flags.webhookUrl ?? listening;
      const hybrid = flags.backend === "streamable-http-webhook";
      return {
        describe: `${
          hybrid ? "Streamable HTTP + webhook" : "webhook"
        } ${serverUrl} (webhook ${webhookUrl})`,
        address: serverUrl,
        make: () =>
          hybrid
            ? new StreamableHttpWebhookClientTransport({ serverUrl, webhookUrl, receiver, logger })
            : new WebhookClientTransport({ serverUrl, webhookUrl, receiver, logger }),
        close: () => receiver.close(),
      };
    }
  }
}

async function reachQueue(sqs: SQSClient, queueUrl: string): Promise<void> {
  try {
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
    );
  } catch (error) {
    throw new Error(
      `Cannot reach queue ${queueUrl}: ${
        (error as Error).message
      } (check AWS_ENDPOINT_URL, the region and credentials, or create it with 'asyncmcp setup')`,
    );
  }
}

/**
 * An MCP server behind an SNS topic: it reads the SQS queue subscribed to the request topic and
 * publishes answers to each client's topic.
 *
 * @module
 */

import type { SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { AddressPolicy } from "../../session/address_policy.ts";
import { HostedServer } from "../../session/hosted_server.ts";
import type { SessionOptions } from "../../session/session_host.ts";
import { parseArn, sameAccountAndRegion } from "../aws/aws_address.ts";
import { SnsOutbox } from "./sns_outbox.ts";
import { SqsInbox, type SqsPollOptions } from "../aws/sqs_inbox.ts";

/**
 * The `initialize` keys that carry an SNS+SQS client's reply topic (README: Wire format).
 *
 * @example
 * ```ts
 * import { SNS_RETURN_ADDRESS } from "@asyncmcp/asyncmcp/sns-sqs";
 *
 * console.log(SNS_RETURN_ADDRESS.meta); // "clientTopicArn"
 * ```
 */
export const SNS_RETURN_ADDRESS = { meta: "clientTopicArn", legacy: "client_topic_arn" } as const;

/** Options for {@linkcode SnsSqsServer}. */
export interface SnsSqsServerOptions extends SessionOptions, SqsPollOptions {
  /** The SQS client that reads the request queue. */
  sqs: SQSClient;
  /** The SNS client that publishes answers. */
  sns: SNSClient;
  /** The server's queue, subscribed to the request topic. */
  requestQueueUrl: string;
  /** The request topic; only used for the default address policy. */
  requestTopicArn?: string;
  /**
   * Which client topics may be published to.
   * @default same account and region as `requestTopicArn`, else as `requestQueueUrl`
   */
  addressPolicy?: AddressPolicy;
  /** Largest message published, in bytes. @default {262144} */
  maxMessageBytes?: number;
}

/**
 * Serves MCP over SNS+SQS: clients publish requests to a topic whose subscribed queue this server
 * reads; each session's messages are published to the `clientTopicArn` its client named in
 * `initialize`. Other queues subscribed to the request topic see every request (fan-out).
 *
 * @example Serve an MCP server behind a topic
 * ```ts ignore
 * import { SNSClient } from "@aws-sdk/client-sns";
 * import { SQSClient } from "@aws-sdk/client-sqs";
 * import { McpServer } from "@asyncmcp/asyncmcp/sdk";
 * import { SnsSqsServer } from "@asyncmcp/asyncmcp/sns-sqs";
 *
 * const server = new SnsSqsServer({
 *   sqs: new SQSClient({}),
 *   sns: new SNSClient({}),
 *   requestQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/mcp-server",
 *   createServer: () => new McpServer({ name: "example", version: "1.0.0" }),
 * });
 * await server.start();
 * ```
 */
export class SnsSqsServer extends HostedServer {
  /** Validates the options; nothing is received until `start()`. */
  constructor(options: SnsSqsServerOptions) {
    super({
      ...options,
      inbox: new SqsInbox({ ...options, queueUrl: options.requestQueueUrl }),
      outbox: new SnsOutbox(options),
      returnAddressKey: SNS_RETURN_ADDRESS,
      addressPolicy: options.addressPolicy ?? snsTopicPolicy(options),
    });
  }
}

/** The default: an SNS topic ARN in the request topic's (else the request queue's) account and region. */
function snsTopicPolicy(options: SnsSqsServerOptions): AddressPolicy {
  const sameHome = sameAccountAndRegion(options.requestTopicArn ?? options.requestQueueUrl);
  return (address) =>
    parseArn(address)?.service === "sns"
      ? sameHome(address)
      : `Cannot use return address ${address} as it is not an SNS topic ARN: name the client's reply topic`;
}

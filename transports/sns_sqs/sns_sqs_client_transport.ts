/**
 * The SDK `Transport` for MCP clients that reach a server through SNS topics.
 *
 * @module
 */

import type { SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { ClientTransport } from "../../session/client_transport.ts";
import type { Logger } from "../../session/logger.ts";
import { SnsOutbox } from "./sns_outbox.ts";
import { SNS_RETURN_ADDRESS } from "./sns_sqs_server.ts";
import type { SqsPollOptions } from "../aws/sqs_inbox.ts";
import { sharedPer } from "../aws/shared_per_client.ts";
import { sqsReplyRouter } from "../aws/sqs_reply_channel.ts";

/** Options for {@linkcode SnsSqsClientTransport}. */
export interface SnsSqsClientTransportOptions extends SqsPollOptions {
  /** The SQS client that reads `responseQueueUrl`. */
  sqs: SQSClient;
  /** The SNS client that publishes requests. */
  sns: SNSClient;
  /** The topic the server's queue is subscribed to. */
  requestTopicArn: string;
  /** This client's reply topic, sent to the server as `_meta.clientTopicArn`. */
  responseTopicArn: string;
  /**
   * The queue subscribed to `responseTopicArn` that this client reads. When several clients share
   * one reply topic, give each its own queue with a filter policy on its `ClientId` (see
   * `ensureSnsSqsTopology`), or let clients in one process share one queue.
   */
  responseQueueUrl: string;
  /** This client's id, sent with every message and echoed by the server. @default {crypto.randomUUID()} */
  clientId?: string;
  /** Largest message published, in bytes. @default {262144} */
  maxMessageBytes?: number;
  /** Where events are logged. @default {consoleLogger()} */
  logger?: Logger;
}

/** Clients built on the same `SNSClient` share one outbox, and so their batches. */
const outboxes = new WeakMap<SNSClient, SnsOutbox>();

/**
 * Connects an SDK `Client` to an `SnsSqsServer` (or a Python asyncmcp SNS+SQS server): requests
 * are published to `requestTopicArn`, answers arrive on `responseQueueUrl` through the client's
 * topic.
 *
 * @example Call a tool over SNS+SQS
 * ```ts ignore
 * import { SNSClient } from "@aws-sdk/client-sns";
 * import { SQSClient } from "@aws-sdk/client-sqs";
 * import { Client } from "@asyncmcp/asyncmcp/sdk";
 * import { SnsSqsClientTransport } from "@asyncmcp/asyncmcp/sns-sqs";
 *
 * const client = new Client({ name: "example", version: "1.0.0" });
 * await client.connect(new SnsSqsClientTransport({
 *   sqs: new SQSClient({}),
 *   sns: new SNSClient({}),
 *   requestTopicArn: "arn:aws:sns:us-east-1:123456789012:mcp-requests",
 *   responseTopicArn: "arn:aws:sns:us-east-1:123456789012:mcp-replies",
 *   responseQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/mcp-replies-client-1",
 * }));
 * ```
 */
export class SnsSqsClientTransport extends ClientTransport {
  /** Creates the transport; the SDK client starts it in `connect()`. */
  constructor(options: SnsSqsClientTransportOptions) {
    super({
      outbox: sharedPer(
        outboxes,
        options.sns,
        options.maxMessageBytes === undefined && options.awsHttp === undefined,
        () => new SnsOutbox(options),
      ),
      serverAddress: options.requestTopicArn,
      replies: () => sqsReplyRouter({ ...options, queueUrl: options.responseQueueUrl }),
      initializeMeta: { [SNS_RETURN_ADDRESS.meta]: options.responseTopicArn },
      clientId: options.clientId,
      logger: options.logger,
    });
  }
}

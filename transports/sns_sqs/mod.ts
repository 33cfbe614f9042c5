/**
 * The SNS+SQS transport: clients publish requests to a topic, the server reads the queue
 * subscribed to it and publishes answers to each client's topic. Other queues on the request
 * topic see every request (fan-out).
 *
 * @example Provision, serve and call over SNS+SQS
 * ```ts ignore
 * import { SNSClient } from "@aws-sdk/client-sns";
 * import { SQSClient } from "@aws-sdk/client-sqs";
 * import { Client, McpServer } from "@asyncmcp/asyncmcp/sdk";
 * import {
 *   ensureSnsSqsTopology,
 *   SnsSqsClientTransport,
 *   SnsSqsServer,
 * } from "@asyncmcp/asyncmcp/sns-sqs";
 *
 * const sqs = new SQSClient({});
 * const sns = new SNSClient({});
 * const topology = await ensureSnsSqsTopology({
 *   sqs, sns,
 *   requestTopic: "mcp-requests", serverQueue: "mcp-server",
 *   replyTopic: "mcp-replies", clientQueue: "mcp-replies-1",
 * });
 * const server = new SnsSqsServer({
 *   sqs, sns,
 *   requestQueueUrl: topology.requestQueueUrl,
 *   createServer: () => new McpServer({ name: "example", version: "1.0.0" }),
 * });
 * await server.start();
 * const client = new Client({ name: "example-client", version: "1.0.0" });
 * await client.connect(new SnsSqsClientTransport({ sqs, sns, ...topology }));
 * ```
 *
 * @module
 */

export { SNS_RETURN_ADDRESS, SnsSqsServer, type SnsSqsServerOptions } from "./sns_sqs_server.ts";
export {
  SnsSqsClientTransport,
  type SnsSqsClientTransportOptions,
} from "./sns_sqs_client_transport.ts";
export { SNS_MAX_MESSAGE_BYTES, SnsOutbox, type SnsOutboxOptions } from "./sns_outbox.ts";
export { decodeQueueMessage } from "../aws/sns_envelope.ts";
export { type AwsHttp, type AwsHttpOptions } from "../aws/aws_http.ts";
export { AwsServiceError } from "../aws/aws_fetch.ts";
/** The AWS SDK types that options here name (the SNS and SQS clients, a received message). */
export type { SNSClient } from "@aws-sdk/client-sns";
export type { Message as SqsMessage, SQSClient } from "@aws-sdk/client-sqs";
export {
  ensureQueue,
  ensureSnsSqsTopology,
  ensureTopic,
  type QueueAddress,
  type SnsSqsTopology,
  type SnsSqsTopologyOptions,
  subscribeQueue,
  type SubscribeQueueOptions,
} from "./sns_sqs_topology.ts";

/**
 * The SQS transport: an MCP server reading a request queue, and clients that each name their own
 * response queue.
 *
 * @example Serve and call a tool over SQS
 * ```ts ignore
 * import { SQSClient } from "@aws-sdk/client-sqs";
 * import { Client, McpServer } from "@asyncmcp/asyncmcp/sdk";
 * import { SqsClientTransport, SqsServer } from "@asyncmcp/asyncmcp/sqs";
 *
 * const sqs = new SQSClient({});
 * const server = new SqsServer({
 *   sqs,
 *   requestQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests",
 *   createServer: () => new McpServer({ name: "example", version: "1.0.0" }),
 * });
 * await server.start();
 * const client = new Client({ name: "example-client", version: "1.0.0" });
 * await client.connect(new SqsClientTransport({
 *   sqs,
 *   requestQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests",
 *   responseQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/mcp-replies",
 * }));
 * ```
 *
 * @module
 */

export { SQS_RETURN_ADDRESS, SqsServer, type SqsServerOptions } from "./sqs_server.ts";
export { SqsClientTransport, type SqsClientTransportOptions } from "./sqs_client_transport.ts";
export {
  SqsInbox,
  type SqsInboxOptions,
  type SqsInboxStatus,
  type SqsPollOptions,
} from "../aws/sqs_inbox.ts";
export { SQS_MAX_MESSAGE_BYTES, SqsOutbox, type SqsOutboxOptions } from "./sqs_outbox.ts";
export { type AwsHttp, type AwsHttpOptions } from "../aws/aws_http.ts";
export { AwsServiceError } from "../aws/aws_fetch.ts";
/** The AWS SDK types that options here name (the SQS client, a received message). */
export type { Message as SqsMessage, SQSClient } from "@aws-sdk/client-sqs";
export { sameAccountAndRegion } from "../aws/aws_address.ts";
export {
  BatchingOutbox,
  type BatchingOutboxOptions,
  type OutgoingMessage,
  type SendApi,
  sendApi,
  type ServiceCalls,
} from "../aws/batching_outbox.ts";

/**
 * asyncmcp: asynchronous transports for the Model Context Protocol. An MCP server sits behind a
 * queue, a topic or webhooks; clients send requests and receive answers without holding a
 * connection open. Servers and clients are the official SDK's `McpServer` and `Client`.
 *
 * Import a transport's subpath (`@asyncmcp/asyncmcp/sqs`) to load only what it needs; this
 * entry re-exports all of them.
 *
 * @example Serve an MCP server over SQS
 * ```ts ignore
 * import { SQSClient } from "@aws-sdk/client-sqs";
 * import { McpServer, SqsServer } from "@asyncmcp/asyncmcp";
 *
 * const server = new SqsServer({
 *   sqs: new SQSClient({}),
 *   requestQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests",
 *   createServer: () => new McpServer({ name: "example", version: "1.0.0" }),
 * });
 * await server.start();
 * ```
 *
 * @module
 */

export * from "./transports/sqs/mod.ts";
export * from "./transports/sns_sqs/mod.ts";
export * from "./transports/webhook/mod.ts";
export * from "./transports/streamable_http_webhook/mod.ts";
export * from "./proxy/mod.ts";
export * from "./session/mod.ts";
export { Client, McpServer } from "./sdk.ts";

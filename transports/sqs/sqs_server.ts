/**
 * An MCP server that reads requests from an SQS queue and answers on each client's queue.
 *
 * @module
 */

import type { SQSClient } from "@aws-sdk/client-sqs";
import type { AddressPolicy } from "../../session/address_policy.ts";
import { HostedServer } from "../../session/hosted_server.ts";
import type { SessionOptions } from "../../session/session_host.ts";
import { sameAccountAndRegion } from "../aws/aws_address.ts";
import { SqsInbox, type SqsPollOptions } from "../aws/sqs_inbox.ts";
import { SqsOutbox } from "./sqs_outbox.ts";

/**
 * The `initialize` keys that carry an SQS client's response queue (README: Wire format).
 *
 * @example
 * ```ts
 * import { SQS_RETURN_ADDRESS } from "@asyncmcp/asyncmcp/sqs";
 *
 * console.log(SQS_RETURN_ADDRESS.meta); // "responseQueueUrl"
 * ```
 */
export const SQS_RETURN_ADDRESS = {
  meta: "responseQueueUrl",
  legacy: "response_queue_url",
} as const;

/** Options for {@linkcode SqsServer}. */
export interface SqsServerOptions extends SessionOptions, SqsPollOptions {
  /** The SQS client, with the credentials, region and endpoint to use. */
  sqs: SQSClient;
  /** The queue clients send requests to. */
  requestQueueUrl: string;
  /**
   * Which response queues may be answered.
   * @default {sameAccountAndRegion(requestQueueUrl)}
   */
  addressPolicy?: AddressPolicy;
  /** Largest message sent, in bytes. @default {1048576} */
  maxMessageBytes?: number;
}

/**
 * Serves MCP over SQS: one `createServer()` server per session, requests from `requestQueueUrl`,
 * answers to the `responseQueueUrl` each client names in `initialize`. Run several processes with
 * a shared `store` on the same queue to scale out.
 *
 * @example Serve an MCP server over SQS
 * ```ts ignore
 * import { SQSClient } from "@aws-sdk/client-sqs";
 * import { McpServer } from "@asyncmcp/asyncmcp/sdk";
 * import { SqsServer } from "@asyncmcp/asyncmcp/sqs";
 *
 * const server = new SqsServer({
 *   sqs: new SQSClient({}),
 *   requestQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests",
 *   createServer: () => new McpServer({ name: "example", version: "1.0.0" }),
 * });
 * await server.start();
 * Deno.addSignalListener("SIGTERM", () => server.close());
 * ```
 */
export class SqsServer extends HostedServer {
  /** Validates the options; nothing is received until `start()`. */
  constructor(options: SqsServerOptions) {
    super({
      ...options,
      inbox: new SqsInbox({ ...options, queueUrl: options.requestQueueUrl }),
      outbox: new SqsOutbox(options),
      returnAddressKey: SQS_RETURN_ADDRESS,
      addressPolicy: options.addressPolicy ?? sameAccountAndRegion(options.requestQueueUrl),
    });
  }
}

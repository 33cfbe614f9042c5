/**
 * The SDK `Transport` for MCP clients that reach a server through SQS.
 *
 * @module
 */

import type { SQSClient } from "@aws-sdk/client-sqs";
import { ClientTransport } from "../../session/client_transport.ts";
import type { Logger } from "../../session/logger.ts";
import type { SqsPollOptions } from "../aws/sqs_inbox.ts";
import { SqsOutbox } from "./sqs_outbox.ts";
import { sharedPer } from "../aws/shared_per_client.ts";
import { sqsReplyRouter } from "../aws/sqs_reply_channel.ts";
import { SQS_RETURN_ADDRESS } from "./sqs_server.ts";

/** Options for {@linkcode SqsClientTransport}. */
export interface SqsClientTransportOptions extends SqsPollOptions {
  /** The SQS client, with the credentials, region and endpoint to use. */
  sqs: SQSClient;
  /** The server's request queue. */
  requestQueueUrl: string;
  /**
   * The queue the server answers on. Many clients may share one: in one process they share one
   * poller; across processes each hands back what is not its own.
   */
  responseQueueUrl: string;
  /** This client's id, sent with every message and echoed by the server. @default {crypto.randomUUID()} */
  clientId?: string;
  /** Largest message sent, in bytes. @default {1048576} */
  maxMessageBytes?: number;
  /** Where events are logged. @default {consoleLogger()} */
  logger?: Logger;
}

/** Clients built on the same `SQSClient` share one outbox, and so their batches. */
const outboxes = new WeakMap<SQSClient, SqsOutbox>();

/**
 * Connects an SDK `Client` to an `SqsServer` (or a Python asyncmcp SQS server): requests go to
 * `requestQueueUrl`, answers come back on `responseQueueUrl`.
 *
 * @example Call a tool over SQS
 * ```ts ignore
 * import { SQSClient } from "@aws-sdk/client-sqs";
 * import { Client } from "@asyncmcp/asyncmcp/sdk";
 * import { SqsClientTransport } from "@asyncmcp/asyncmcp/sqs";
 *
 * const transport = new SqsClientTransport({
 *   sqs: new SQSClient({}),
 *   requestQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests",
 *   responseQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/mcp-replies",
 * });
 * const client = new Client({ name: "example", version: "1.0.0" });
 * await client.connect(transport);
 * console.log(await client.listTools());
 * await client.close();
 * ```
 */
export class SqsClientTransport extends ClientTransport {
  /** Creates the transport; the SDK client starts it in `connect()`. */
  constructor(options: SqsClientTransportOptions) {
    super({
      outbox: sharedPer(
        outboxes,
        options.sqs,
        options.maxMessageBytes === undefined && options.awsHttp === undefined,
        () => new SqsOutbox(options),
      ),
      serverAddress: options.requestQueueUrl,
      replies: () => sqsReplyRouter({ ...options, queueUrl: options.responseQueueUrl }),
      initializeMeta: { [SQS_RETURN_ADDRESS.meta]: options.responseQueueUrl },
      clientId: options.clientId,
      logger: options.logger,
    });
  }
}

/**
 * The five SQS calls on asyncmcp's hot path, over the lean `fetch` path or through the SDK client.
 *
 * @module
 */

import {
  ChangeMessageVisibilityBatchCommand,
  type ChangeMessageVisibilityBatchRequest,
  type ChangeMessageVisibilityBatchResult,
  DeleteMessageBatchCommand,
  type DeleteMessageBatchRequest,
  type DeleteMessageBatchResult,
  ReceiveMessageCommand,
  type ReceiveMessageRequest,
  type ReceiveMessageResult,
  SendMessageBatchCommand,
  type SendMessageBatchRequest,
  type SendMessageBatchResult,
  SendMessageCommand,
  type SendMessageRequest,
  type SendMessageResult,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { AwsFetchClient, AwsServiceError } from "./aws_fetch.ts";
import { type AwsHttp, callsFor } from "./aws_http.ts";

/**
 * The SQS calls that run for every message. Inputs and results have the SDK's shapes; failures
 * are thrown as the SDK's errors or {@linkcode AwsServiceError}s, which `BrokerError.from` reads
 * alike. On the fetch path binary message attributes are not supported (asyncmcp sends none).
 *
 * @example
 * ```ts ignore
 * const calls: SqsCalls = sqsCalls(sqs, "fetch");
 * await calls.deleteMessageBatch({ QueueUrl: queueUrl, Entries: [{ Id: "0", ReceiptHandle: handle }] });
 * ```
 */
export interface SqsCalls {
  /** `SendMessage`. */
  sendMessage(input: SendMessageRequest): Promise<SendMessageResult>;
  /** `SendMessageBatch`. */
  sendMessageBatch(input: SendMessageBatchRequest): Promise<SendMessageBatchResult>;
  /** `ReceiveMessage`; aborting `signal` ends the long poll. */
  receiveMessage(input: ReceiveMessageRequest, signal?: AbortSignal): Promise<ReceiveMessageResult>;
  /** `DeleteMessageBatch`. */
  deleteMessageBatch(input: DeleteMessageBatchRequest): Promise<DeleteMessageBatchResult>;
  /** `ChangeMessageVisibilityBatch`. */
  changeMessageVisibilityBatch(
    input: ChangeMessageVisibilityBatchRequest,
  ): Promise<ChangeMessageVisibilityBatchResult>;
}

const cache = new WeakMap<SQSClient, Partial<Record<AwsHttp, SqsCalls>>>();

/**
 * The hot SQS calls for `sqs`, over `fetch` (SigV4-signed JSON protocol, configured from the
 * client) or through `sqs.send()`; by default `ASYNCMCP_AWS_HTTP`, else fetch.
 *
 * @example Receive over the fetch path
 * ```ts ignore
 * import { SQSClient } from "@aws-sdk/client-sqs";
 * import { sqsCalls } from "./sqs_calls.ts";
 *
 * const calls = sqsCalls(new SQSClient({}), "fetch");
 * const { Messages = [] } = await calls.receiveMessage({
 *   QueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/q",
 *   WaitTimeSeconds: 20,
 * });
 * ```
 */
export function sqsCalls(sqs: SQSClient, awsHttp?: AwsHttp): SqsCalls {
  return callsFor(cache, sqs, awsHttp, { fetch: fetchCalls, sdk: sdkCalls });
}

function sdkCalls(sqs: SQSClient): SqsCalls {
  return {
    sendMessage: (input) => sqs.send(new SendMessageCommand(input)),
    sendMessageBatch: (input) => sqs.send(new SendMessageBatchCommand(input)),
    receiveMessage: (input, signal) =>
      sqs.send(new ReceiveMessageCommand(input), { abortSignal: signal }),
    deleteMessageBatch: (input) => sqs.send(new DeleteMessageBatchCommand(input)),
    changeMessageVisibilityBatch: (input) =>
      sqs.send(new ChangeMessageVisibilityBatchCommand(input)),
  };
}

function fetchCalls(sqs: SQSClient): SqsCalls {
  const client = new AwsFetchClient(sqs, { service: "sqs", parseError: parseJsonError });
  const call = async <T>(operation: string, input: object, signal?: AbortSignal): Promise<T> => {
    const text = await client.post(JSON.stringify(input), {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": `AmazonSQS.${operation}`,
      // Asks for the query-compatible error codes (AWS.SimpleQueueService.NonExistentQueue)
      // that the SDK reports and asyncmcp's callers match on.
      "x-amzn-query-mode": "true",
    }, signal);
    return (text ? JSON.parse(text) : {}) as T;
  };
  return {
    sendMessage: (input) => call("SendMessage", input),
    sendMessageBatch: (input) => call("SendMessageBatch", input),
    receiveMessage: (input, signal) => call("ReceiveMessage", input, signal),
    deleteMessageBatch: (input) => call("DeleteMessageBatch", input),
    changeMessageVisibilityBatch: (input) => call("ChangeMessageVisibilityBatch", input),
  };
}

/**
 * Reads an AWS JSON protocol error: the type from `__type` (or `x-amzn-errortype`), the code
 * from `x-amzn-query-error` when SQS sends one, as the SDK does.
 */
function parseJsonError(status: number, headers: Headers, body: string): AwsServiceError {
  let parsed: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    const value = JSON.parse(body);
    if (value && typeof value === "object") parsed = value;
  } catch {
    // Not JSON (a proxy's error page, say): status and headers still tell what happened.
  }
  const type = typeof parsed.__type === "string" ? parsed.__type : headers.get("x-amzn-errortype");
  // `aws.protocoltests#Name:http://internal.amazon.com/...`: the name sits between # and :.
  const name = type?.split("#").pop()?.split(":")[0] || "UnknownError";
  const [queryCode, queryFault] = headers.get("x-amzn-query-error")?.split(";") ?? [];
  const message = typeof parsed.message === "string"
    ? parsed.message
    : typeof parsed.Message === "string"
    ? parsed.Message
    : `HTTP ${status}`;
  return new AwsServiceError(message, {
    name,
    code: queryCode || name,
    status,
    requestId: headers.get("x-amzn-requestid") ?? headers.get("x-amz-request-id") ?? undefined,
    fault: queryFault === "Sender" || (queryFault === undefined && status < 500)
      ? "client"
      : "server",
  });
}

/**
 * Raw SQS access for wire-level tests: send exactly the bytes and attributes a peer would, and
 * read exactly what our side put on a queue.
 *
 * @module
 */

import {
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SNSClient } from "@aws-sdk/client-sns";

/** One message as read off a queue. */
export interface RawMessage {
  body: string;
  json: Record<string, unknown>;
  attributes: Record<string, { DataType?: string; StringValue?: string }>;
}

/** String attributes in the SQS API shape. */
export function stringAttributes(
  values: Record<string, string>,
): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Object.entries(values).map((
      [name, value],
    ) => [name, { DataType: "String", StringValue: value }]),
  );
}

/** Sends one raw message; returns the broker's id for it. */
export async function sendRaw(
  sqs: SQSClient,
  queueUrl: string,
  body: string,
  attributes: Record<string, MessageAttributeValue> = {},
): Promise<string> {
  const { MessageId } = await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageAttributes: Object.keys(attributes).length ? attributes : undefined,
    }),
  );
  return MessageId!;
}

/** Receives (and leaves to expire, unacknowledged) the next message; throws when none arrives in time. */
export async function receiveOne(
  sqs: SQSClient,
  queueUrl: string,
  waitSeconds = 5,
): Promise<RawMessage> {
  const deadline = Date.now() + waitSeconds * 1000;
  while (Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
        VisibilityTimeout: 60,
      }),
    );
    const [message] = Messages;
    if (message) {
      return {
        body: message.Body ?? "",
        json: JSON.parse(message.Body ?? "null"),
        attributes: message.MessageAttributes ?? {},
      };
    }
  }
  throw new Error(`No message arrived on ${queueUrl} within ${waitSeconds} s`);
}

/** Asserts that no message arrives within `waitSeconds`. */
export async function receiveNone(
  sqs: SQSClient,
  queueUrl: string,
  waitSeconds = 1,
): Promise<boolean> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: waitSeconds }),
  );
  return Messages.length === 0;
}

/** Visible plus in-flight messages on a queue. */
export async function messagesOn(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/**
 * Starts a session the way the Python asyncmcp SQS client does (initialize, then
 * notifications/initialized) and returns the session id the server chose.
 */
export async function rawSession(
  sqs: SQSClient,
  requestQueueUrl: string,
  responseQueueUrl: string,
  clientId: string = crypto.randomUUID(),
): Promise<{ sessionId: string; clientId: string; reply: RawMessage }> {
  await sendRaw(
    sqs,
    requestQueueUrl,
    pythonInitializeBody({ _meta: { responseQueueUrl } }),
    pythonAttributes({ RequestId: "0", Method: "initialize", ClientId: clientId }),
  );
  const reply = await receiveOne(sqs, responseQueueUrl);
  const sessionId = reply.attributes.SessionId?.StringValue;
  if (!sessionId) throw new Error(`initialize reply carried no SessionId: ${reply.body}`);
  await sendRaw(
    sqs,
    requestQueueUrl,
    '{"method":"notifications/initialized","jsonrpc":"2.0"}',
    pythonAttributes({
      Method: "notifications/initialized",
      SessionId: sessionId,
      ClientId: clientId,
    }),
  );
  return { sessionId, clientId, reply };
}

/**
 * Sends request `id` of a session opened by {@linkcode rawSession}, with the attributes the Python
 * client sets; resolves with the broker's id for the message.
 */
export function sendRequest(
  sqs: SQSClient,
  requestQueueUrl: string,
  session: { sessionId: string; clientId: string },
  id: number,
  method: string,
  params: Record<string, unknown> = {},
): Promise<string> {
  return sendRaw(
    sqs,
    requestQueueUrl,
    JSON.stringify({ jsonrpc: "2.0", id, method, params }),
    pythonAttributes({
      RequestId: String(id),
      SessionId: session.sessionId,
      ClientId: session.clientId,
    }),
  );
}

/**
 * The body of an `initialize` exactly as the Python client writes it: `json.dumps` of the
 * pydantic dump (spaces after `,` and `:`, keys in field order method, params, jsonrpc, id).
 */
export function pythonInitializeBody(extraParams: Record<string, unknown>): string {
  const message = {
    method: "initialize",
    params: {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "mcp", version: "0.1.0" },
      ...extraParams,
    },
    jsonrpc: "2.0",
    id: 0,
  };
  return JSON.stringify(message).replaceAll('","', '", "').replaceAll('":', '": ')
    .replaceAll('},"', '}, "');
}

/**
 * Attributes as the Python client sets them: MessageType, Timestamp (Number, whole epoch
 * seconds), then the given string attributes.
 */
export function pythonAttributes(
  values: Record<string, string>,
): Record<string, MessageAttributeValue> {
  return {
    MessageType: { DataType: "String", StringValue: "jsonrpc" },
    Timestamp: { DataType: "Number", StringValue: String(Math.floor(Date.now() / 1000)) },
    ...stringAttributes(values),
  };
}

/** One call an SQS or SNS client made, with what it sent and (once answered) what came back. */
export interface RecordedCall {
  /** The command's name, e.g. `SendMessageBatchCommand`. */
  command: string;
  // deno-lint-ignore no-explicit-any
  input: any;
  // deno-lint-ignore no-explicit-any
  output?: any;
}

/**
 * Records every call `client` makes from now on (the real call still goes to the broker), so
 * that a test can count deliveries, deletes and batch entries as the broker saw them.
 */
export function recordCalls(client: SQSClient | SNSClient): RecordedCall[] {
  const calls: RecordedCall[] = [];
  // The two clients' stacks differ only in their input and output types, which this ignores.
  (client as SQSClient).middlewareStack.add((next, context) => async (args) => {
    const call: RecordedCall = { command: context.commandName ?? "", input: args.input };
    calls.push(call);
    const result = await next(args);
    call.output = result.output;
    return result;
  }, { step: "initialize", name: "asyncmcpTestRecorder" });
  return calls;
}

/** How many times the recorded client received the message with broker id `messageId`. */
export function receivesOf(calls: RecordedCall[], messageId: string): number {
  return calls.filter((call) => call.command === "ReceiveMessageCommand")
    .flatMap((call) => call.output?.Messages ?? [])
    .filter((message: { MessageId?: string }) => message.MessageId === messageId).length;
}

/** One message the recorded client sent, from `SendMessage` or an entry of `SendMessageBatch`. */
export interface SentMessage {
  queueUrl: string;
  body: string;
  groupId?: string;
  attributes: Record<string, { DataType?: string; StringValue?: string }>;
}

/** Every message the recorded client sent to `queueUrl`. */
export function sentTo(calls: RecordedCall[], queueUrl: string): SentMessage[] {
  return calls.filter((call) => call.input.QueueUrl === queueUrl).flatMap((call) => {
    const entries = call.command === "SendMessageBatchCommand"
      ? call.input.Entries
      : call.command === "SendMessageCommand"
      ? [call.input]
      : [];
    return entries.map((entry: Record<string, never>) => ({
      queueUrl,
      body: entry.MessageBody,
      groupId: entry.MessageGroupId,
      attributes: entry.MessageAttributes ?? {},
    }));
  });
}

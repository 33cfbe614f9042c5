import assert from "node:assert/strict";
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { BrokerError } from "../session/errors.ts";
import type { InboxDelivery } from "../session/inbox.ts";
import { resolveAwsHttp } from "../transports/aws/aws_http.ts";
import { sqsCalls } from "../transports/aws/sqs_calls.ts";
import { SqsInbox } from "../transports/aws/sqs_inbox.ts";
import { decodeQueueMessage } from "../transports/aws/sns_envelope.ts";
import { ensureTopic, SnsOutbox, subscribeQueue } from "../transports/sns_sqs/mod.ts";
import { SqsOutbox } from "../transports/sqs/mod.ts";
import {
  type BrokerContext,
  connectSqsClient,
  eventually,
  recordingLogger,
  startSqsServer,
  textOf,
  withBroker,
} from "./_fixture.ts";
import { assertBrokerError, rejectionOf } from "./_fake_aws.ts";

const notification = (text: string) => ({
  jsonrpc: "2.0" as const,
  method: "notifications/message",
  params: { text },
});

/** Receives until `count` messages arrived (a broker may spread them over several receives). */
async function receiveAll(sqs: SQSClient, queueUrl: string, count: number): Promise<Message[]> {
  const calls = sqsCalls(sqs, "fetch");
  const messages: Message[] = [];
  const deadline = Date.now() + 5000;
  while (messages.length < count && Date.now() < deadline) {
    const { Messages = [] } = await calls.receiveMessage({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageAttributeNames: ["All"],
      MessageSystemAttributeNames: ["ApproximateReceiveCount"],
    });
    messages.push(...Messages);
  }
  return messages;
}

/** Counts the commands an SDK client sends through its own middleware stack. */
function countSdkCommands(client: SQSClient | SNSClient): Map<string, number> {
  const counts = new Map<string, number>();
  (client as SQSClient).middlewareStack.add((next, context) => (args) => {
    const name = context.commandName ?? "unknown";
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return next(args);
  }, { step: "initialize", name: "testCommandCounter" });
  return counts;
}

Deno.test("fetch path: SQS messages are sent, batch-sent, received, shown again and batch-deleted on the broker", async () => {
  await withBroker(async ({ sqs, queue }) => {
    const { url } = await queue("hot-path");
    const calls = sqsCalls(sqs, "fetch");
    const attributes = { SessionId: { DataType: "String", StringValue: "s-1" } };
    await calls.sendMessage({
      QueueUrl: url,
      MessageBody: '{"n":0}',
      MessageAttributes: attributes,
    });
    const batch = await calls.sendMessageBatch({
      QueueUrl: url,
      Entries: [1, 2].map((n) => ({ Id: String(n), MessageBody: `{"n":${n}}` })),
    });
    assert.deepEqual(batch.Failed ?? [], []);
    const first = await receiveAll(sqs, url, 3);
    assert.deepEqual(first.map((message) => message.Body).sort(), [
      '{"n":0}',
      '{"n":1}',
      '{"n":2}',
    ]);
    const withAttribute = first.find((message) => message.Body === '{"n":0}')!;
    assert.equal(withAttribute.MessageAttributes?.SessionId?.StringValue, "s-1");
    const shown = await calls.changeMessageVisibilityBatch({
      QueueUrl: url,
      Entries: first.map((message, index) => ({
        Id: String(index),
        ReceiptHandle: message.ReceiptHandle!,
        VisibilityTimeout: 0,
      })),
    });
    assert.deepEqual(shown.Failed ?? [], []);
    const again = await receiveAll(sqs, url, 3);
    assert.deepEqual(again.map((message) => message.Attributes?.ApproximateReceiveCount), [
      "2",
      "2",
      "2",
    ]);
    const deleted = await calls.deleteMessageBatch({
      QueueUrl: url,
      Entries: again.map((message, index) => ({
        Id: String(index),
        ReceiptHandle: message.ReceiptHandle!,
      })),
    });
    assert.deepEqual(deleted.Failed ?? [], []);
    const { Messages = [] } = await calls.receiveMessage({
      QueueUrl: url,
      VisibilityTimeout: 0,
      WaitTimeSeconds: 0,
    });
    assert.equal(Messages.length, 0);
  });
});

Deno.test("fetch path: a batch send with one invalid message fails only that message, with the AWS code", async () => {
  await withBroker(async ({ sqs, queue }) => {
    const { url } = await queue("partial");
    // Straight to the calls: the outbox escapes U+FFFF, which SQS does not accept in a body.
    const { Failed = [], Successful = [] } = await sqsCalls(sqs, "fetch").sendMessageBatch({
      QueueUrl: url,
      Entries: [{ Id: "0", MessageBody: "fine" }, { Id: "1", MessageBody: "bad \uFFFF" }],
    });
    assert.deepEqual(Successful.map((entry) => entry.Id), ["0"]);
    assert.equal(Failed.length, 1);
    assert.equal(Failed[0].Id, "1");
    assert.equal(Failed[0].Code, "InvalidMessageContents");
    assert.equal(Failed[0].SenderFault, true);
    assert.equal((await receiveAll(sqs, url, 1)).length, 1);
  });
});

Deno.test("fetch path: sending to a missing queue fails with a BrokerError naming AWS.SimpleQueueService.NonExistentQueue", async () => {
  await withBroker(async ({ sqs, queue }) => {
    const { url } = await queue("exists");
    const outbox = new SqsOutbox({ sqs, awsHttp: "fetch" });
    assertBrokerError(
      await rejectionOf(outbox.send(`${url}-missing`, { message: notification("x") })),
      {
        operation: "SQS SendMessage",
        code: "AWS.SimpleQueueService.NonExistentQueue",
        status: 400,
        retryable: false,
      },
    );
  });
});

Deno.test("fetch path: an inbox reports a failed visibility change of one message as a BrokerError with its AWS code", async () => {
  await withBroker(async ({ sqs, queue }) => {
    const { url } = await queue("inbox");
    await sqsCalls(sqs, "fetch").sendMessage({ QueueUrl: url, MessageBody: "{}" });
    const errors: BrokerError[] = [];
    const received: InboxDelivery[] = [];
    const inbox = new SqsInbox({
      sqs,
      queueUrl: url,
      awsHttp: "fetch",
      waitTimeSeconds: 1,
      logger: recordingLogger(),
      onerror: (error) => errors.push(error),
    });
    await inbox.start((deliveries) => received.push(...deliveries));
    try {
      await eventually(() => received.length === 1);
      // Deleted behind the inbox's back: its receipt handle is no longer valid.
      const { receiptHandle } = received[0] as unknown as { receiptHandle: string };
      await sqsCalls(sqs, "fetch").deleteMessageBatch({
        QueueUrl: url,
        Entries: [{ Id: "0", ReceiptHandle: receiptHandle }],
      });
      received[0].release();
      await eventually(() => errors.length === 1);
      assertBrokerError(errors[0], {
        operation: "SQS ChangeMessageVisibilityBatch",
        code: "ReceiptHandleIsInvalid",
        retryable: false,
      });
    } finally {
      await inbox.close();
    }
  });
});

async function subscribedTopic(context: BrokerContext): Promise<{ topicArn: string; url: string }> {
  const topicArn = await ensureTopic(context.sns, context.unique("hot-topic"));
  const queue = await context.queue("hot-topic-queue");
  await subscribeQueue({ sns: context.sns, sqs: context.sqs, topicArn, queue });
  return { topicArn, url: queue.url };
}

Deno.test("fetch path: SNS Publish and PublishBatch reach the subscribed queue with their attributes", async () => {
  await withBroker(async (context) => {
    const { topicArn, url } = await subscribedTopic(context);
    const outbox = new SnsOutbox({ sns: context.sns, awsHttp: "fetch" });
    await outbox.send(topicArn, { message: notification("one & <only>"), sessionId: "s-1" });
    await Promise.all([
      outbox.send(topicArn, { message: notification("two"), sessionId: "s-2" }),
      outbox.send(topicArn, { message: notification("three"), sessionId: "s-3" }),
    ]);
    const messages = await receiveAll(context.sqs, url, 3);
    const decoded = messages.map((message) => decodeQueueMessage(message));
    const seen = decoded.map((incoming) => {
      assert.ok(incoming.ok);
      const params = (incoming.envelope.message as unknown as { params: { text: string } }).params;
      return `${incoming.envelope.sessionId}:${params.text}`;
    });
    assert.deepEqual(seen.sort(), ["s-1:one & <only>", "s-2:two", "s-3:three"]);
  });
});

Deno.test("fetch path: publishing to a missing topic fails with a BrokerError naming NotFound", async () => {
  await withBroker(async (context) => {
    const { topicArn } = await subscribedTopic(context);
    const outbox = new SnsOutbox({ sns: context.sns, awsHttp: "fetch" });
    const publishing = outbox.send(`${topicArn}-missing`, { message: notification("x") });
    assertBrokerError(await rejectionOf(publishing), {
      operation: "SNS Publish",
      code: "NotFound",
      status: 404,
      retryable: false,
    });
  });
});

Deno.test("awsHttp 'sdk' sends the hot calls through the SDK client, 'fetch' past it", async () => {
  await withBroker(async (context) => {
    for (const awsHttp of ["sdk", "fetch"] as const) {
      // Queues of their own: a long poll aborted at close may still take the next message.
      const requests = await context.queue(`requests-${awsHttp}`);
      const replies = await context.queue(`replies-${awsHttp}`);
      const sqs = context.broker.sqsClient();
      context.cleanup(() => sqs.destroy());
      const counts = countSdkCommands(sqs);
      const { server } = await startSqsServer({ sqs, cleanup: context.cleanup }, requests.url, {
        awsHttp,
      });
      const clientSqs = context.broker.sqsClient();
      context.cleanup(() => clientSqs.destroy());
      const { client } = await connectSqsClient(context, requests.url, replies.url, {
        sqs: clientSqs,
      });
      const result = await client.callTool({ name: "echo", arguments: { text: awsHttp } });
      assert.equal(textOf(result), awsHttp);
      await client.close();
      await server.close();
      const hot = ["ReceiveMessageCommand", "SendMessageCommand", "DeleteMessageBatchCommand"]
        .filter((command) => counts.has(command));
      if (awsHttp === "sdk") {
        assert.deepEqual(hot, [
          "ReceiveMessageCommand",
          "SendMessageCommand",
          "DeleteMessageBatchCommand",
        ]);
      } else assert.deepEqual(hot, []);
    }
  });
});

Deno.test("ASYNCMCP_AWS_HTTP picks the path when the option is left out; an unknown value is refused", () => {
  const before = Deno.env.get("ASYNCMCP_AWS_HTTP");
  try {
    Deno.env.set("ASYNCMCP_AWS_HTTP", "sdk");
    assert.equal(resolveAwsHttp(), "sdk");
    assert.equal(resolveAwsHttp("fetch"), "fetch");
    Deno.env.delete("ASYNCMCP_AWS_HTTP");
    assert.equal(resolveAwsHttp(), "fetch");
    Deno.env.set("ASYNCMCP_AWS_HTTP", "curl");
    assert.throws(() => resolveAwsHttp(), RangeError);
  } finally {
    if (before === undefined) Deno.env.delete("ASYNCMCP_AWS_HTTP");
    else Deno.env.set("ASYNCMCP_AWS_HTTP", before);
  }
});

import assert from "node:assert/strict";
import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { SqsClientTransport } from "../transports/sqs/sqs_client_transport.ts";
import { methodOf } from "../session/envelope.ts";
import { SqsInbox } from "../transports/aws/sqs_inbox.ts";
import { sendWakes } from "../transports/aws/sqs_wake.ts";
import {
  createTestClient,
  eventually,
  recordingLogger,
  sqsServerOnNewQueues,
  withBroker,
} from "./_fixture.ts";
import { recordCalls, sendRaw } from "./_raw_sqs.ts";

Deno.test("SQS reply channel: close() leaves no long poll behind to take the next process's reply", async () => {
  await withBroker(async (context) => {
    const { requests, replies } = await sqsServerOnNewQueues(context, "wake");
    const client = createTestClient();
    await client.connect(
      new SqsClientTransport({
        sqs: context.sqs,
        requestQueueUrl: requests.url,
        responseQueueUrl: replies.url,
        waitTimeSeconds: 20,
        logger: recordingLogger(),
      }),
    );
    await client.close();
    // What a restarted process's server would answer: with the poll abandoned, the broker hands
    // it to that dead poll, which hides it for 5 s, and this read finds nothing.
    await sendRaw(context.sqs, replies.url, '{"jsonrpc":"2.0","id":1,"result":{}}');
    const { Messages = [] } = await context.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: replies.url, WaitTimeSeconds: 1 }),
    );
    assert.equal(Messages.length, 1, "the reply was taken by the closed client's long poll");
    assert.equal(Messages[0].Body, '{"jsonrpc":"2.0","id":1,"result":{}}');
  });
});

Deno.test("SqsInbox with wakeOnClose: close() still ends at once when the wake message cannot be sent", async () => {
  await withBroker(async (context) => {
    const queue = await context.queue("wake-refused");
    const logger = recordingLogger();
    // Like a role with no sqs:SendMessage on its own response queue.
    const sqs = {
      send: (command: unknown, options?: unknown) =>
        command instanceof SendMessageBatchCommand
          ? Promise.reject(new Error("AccessDenied"))
          : context.sqs.send(command as ReceiveMessageCommand, options as never),
    } as unknown as SQSClient;
    const inbox = new SqsInbox({
      sqs,
      queueUrl: queue.url,
      waitTimeSeconds: 1,
      wakeOnClose: true,
      logger,
    });
    await inbox.start(() => {});
    const closing = performance.now();
    await inbox.close();
    assert.ok(performance.now() - closing < 500, "close() waited for a wake that never came");
    assert.ok(logger.events.some((event) => event.event === "sqs.wake_failed"));
  });
});

Deno.test("SqsInbox deletes another poller's wake message without handing it over", async () => {
  await withBroker(async (context) => {
    const queue = await context.queue("wake-foreign");
    await sendWakes(context.sqs, queue.url, 1);
    await sendRaw(context.sqs, queue.url, '{"jsonrpc":"2.0","method":"notifications/x"}');
    const bodies: string[] = [];
    const inbox = new SqsInbox({ sqs: context.sqs, queueUrl: queue.url, waitTimeSeconds: 1 });
    await inbox.start((deliveries) => {
      for (const delivery of deliveries) {
        bodies.push(
          delivery.incoming.ok ? methodOf(delivery.incoming.envelope.message)! : "not JSON-RPC",
        );
        delivery.ack();
      }
    });
    await eventually(() => bodies.includes("notifications/x"));
    await inbox.close();
    assert.deepEqual(bodies, ["notifications/x"]);
    const { Messages = [] } = await context.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 0, VisibilityTimeout: 0 }),
    );
    assert.equal(Messages.length, 0, "the wake message is still on the queue");
  });
});

Deno.test("SQS reply channel: the deletions of replies that arrive within 50 ms travel in one call", async () => {
  await withBroker(async (context) => {
    const { requests, replies } = await sqsServerOnNewQueues(context, "grouped-deletes");
    const clientSqs = context.broker.sqsClient();
    context.cleanup(() => clientSqs.destroy());
    const calls = recordCalls(clientSqs);
    const client = createTestClient();
    await client.connect(
      new SqsClientTransport({
        sqs: clientSqs,
        requestQueueUrl: requests.url,
        responseQueueUrl: replies.url,
        awsHttp: "sdk",
        waitTimeSeconds: 1,
        logger: recordingLogger(),
      }),
    );
    const deletes = () =>
      calls.filter((call) =>
        call.command === "DeleteMessageBatchCommand" && call.input.QueueUrl === replies.url
      );
    await eventually(() => deletes().length > 0); // the initialize's reply
    const before = deletes().length;
    const started = Date.now();
    for (let i = 0; i < 4; i++) await client.ping();
    const elapsed = Date.now() - started;
    await client.close();
    const grouped = deletes().slice(before);
    const deleted = grouped.reduce((sum, call) => sum + call.input.Entries.length, 0);
    assert.equal(deleted, 4);
    // Four replies in well under 50 ms leave in one call; on a slow machine a wait may end
    // between them, but one call per reply is what waiting prevents.
    if (elapsed < 40) assert.equal(grouped.length, 1, `${grouped.length} calls in ${elapsed} ms`);
    else assert.ok(grouped.length <= 3, `${grouped.length} calls in ${elapsed} ms`);
  });
});

Deno.test("SqsInbox with wakeOnClose: closed between two receives, it leaves no wake message behind", async () => {
  await withBroker(async (context) => {
    const queue = await context.queue("wake-between");
    const inbox = new SqsInbox({
      sqs: context.sqs,
      queueUrl: queue.url,
      waitTimeSeconds: 20,
      wakeOnClose: true,
      logger: recordingLogger(),
    });
    const closed = Promise.withResolvers<void>();
    await inbox.start((deliveries) => {
      for (const delivery of deliveries) delivery.ack();
      // Closed from its own handler: no receive is under way, so there is no poll to wake.
      inbox.close().then(closed.resolve, closed.reject);
    });
    await sendRaw(context.sqs, queue.url, '{"jsonrpc":"2.0","method":"notifications/x"}');
    await closed.promise;
    const { Messages = [] } = await context.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 1 }),
    );
    assert.deepEqual(Messages.map((message) => message.Body), []);
  });
});

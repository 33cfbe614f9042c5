/**
 * How a server settles request messages on a standard queue, as the broker sees it: the calls
 * the server's SQS client makes are recorded, so a delete or a second receive shows even where
 * the host's own de-duplication would hide it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SqsInbox, type SqsServerOptions } from "../transports/sqs/mod.ts";
import {
  type BrokerContext,
  createTestServer,
  eventually,
  gatedWork,
  startSqsServer,
  withBroker,
} from "./_fixture.ts";
import {
  messagesOn,
  rawSession,
  receiveNone,
  receiveOne,
  receivesOf,
  recordCalls,
  type RecordedCall,
  sendRaw,
  sendRequest,
} from "./_raw_sqs.ts";

/**
 * A server on its own recorded SQS client, whose `work` tool the test holds, and a session with
 * it opened the way the Python client does.
 */
async function heldSession(context: BrokerContext, options: Partial<SqsServerOptions> = {}) {
  const requests = await context.queue("requests");
  const replies = await context.queue("replies");
  const sqs = context.broker.sqsClient();
  context.cleanup(() => sqs.destroy());
  const calls = recordCalls(sqs);
  const gate = gatedWork();
  const { server, events } = await startSqsServer({ sqs, cleanup: context.cleanup }, requests.url, {
    createServer: () => createTestServer({ work: gate.work }),
    // The SDK path, so that the recorder sees the calls (deletes are the same on both).
    awsHttp: "sdk",
    ...options,
  });
  // Cleanups run last first: the tool lets go before the server closes.
  context.cleanup(() => gate.finish());
  const session = await rawSession(context.sqs, requests.url, replies.url);
  /** Sends a request of the session; resolves with the broker's message id. */
  const request = (id: number, method: string, params?: Record<string, unknown>) =>
    sendRequest(context.sqs, requests.url, session, id, method, params);
  return {
    server,
    events,
    gate,
    calls,
    request,
    work: (id: number) => request(id, "tools/call", { name: "work", arguments: {} }),
    /** The next message on the session's response queue. */
    answer: () => receiveOne(context.sqs, replies.url),
    /** Whether nothing more arrives on the response queue for a second. */
    noMoreAnswers: () => receiveNone(context.sqs, replies.url, 1),
    messagesOnRequests: () => messagesOn(context.sqs, requests.url),
    requestQueueUrl: requests.url,
  };
}

/** Broker ids of the messages the recorded client deleted (calls the broker answered). */
function deletedIds(calls: RecordedCall[]): string[] {
  const idOf = new Map<string, string>();
  for (const call of calls) {
    if (call.command !== "ReceiveMessageCommand") continue;
    for (const message of call.output?.Messages ?? []) {
      idOf.set(message.ReceiptHandle, message.MessageId);
    }
  }
  return calls.filter((call) => call.command === "DeleteMessageBatchCommand" && call.output)
    .flatMap((call) =>
      call.input.Entries.map((entry: { ReceiptHandle: string }) => idOf.get(entry.ReceiptHandle))
    );
}

Deno.test("SQS delivery: a request's message is not deleted while its tool runs", async () => {
  await withBroker(async (context) => {
    const session = await heldSession(context);
    const workId = await session.work(1);
    await session.gate.started;
    // A later request of the session, answered and deleted: acknowledgements leave in order, so
    // once its delete is done, a delete of the running request would have been done too.
    const pingId = await session.request(2, "ping");
    assert.equal((await session.answer()).json.id, 2);
    await eventually(() => deletedIds(session.calls).includes(pingId));
    assert.ok(!deletedIds(session.calls).includes(workId), "deleted while the tool runs");
    assert.equal(await session.messagesOnRequests(), 1);
  });
});

Deno.test("SQS delivery: a request's message is deleted once its answer is sent", async () => {
  await withBroker(async (context) => {
    const session = await heldSession(context);
    const workId = await session.work(1);
    await session.gate.started;
    session.gate.finish("finished");
    const answer = await session.answer();
    assert.deepEqual(answer.json.result, { content: [{ type: "text", text: "finished" }] });
    await eventually(() => deletedIds(session.calls).includes(workId));
    assert.equal(await session.messagesOnRequests(), 0);
  });
});

Deno.test("SQS delivery: a duplicate delivered while its request runs does not run it again", async () => {
  await withBroker(async (context) => {
    const session = await heldSession(context);
    const firstId = await session.work(1);
    await session.gate.started;
    // The same request again, as a sender that retried would put it on the queue.
    const secondId = await session.work(1);
    await eventually(() => receivesOf(session.calls, secondId) === 1);
    session.gate.finish();
    assert.equal((await session.answer()).json.id, 1);
    assert.ok(await session.noMoreAnswers(), "the duplicate was answered too");
    assert.equal(session.gate.runs, 1);
    // Both copies are settled with the answer: neither comes back later.
    await eventually(() =>
      [firstId, secondId].every((id) => deletedIds(session.calls).includes(id))
    );
  });
});

Deno.test("SQS delivery: close() hands a running request's message back to the queue at once", async () => {
  await withBroker(async (context) => {
    // Short polls: a long poll that close() aborted could still take the message on the broker's
    // side (README: Shutdown), which is not what this test is about.
    const session = await heldSession(context, { closeGraceMs: 0, waitTimeSeconds: 0 });
    await session.work(1);
    await session.gate.started;
    await session.server.close();
    // The queue's visibility timeout is 30 s: only a hand-back makes it visible this soon.
    const returned = await receiveOne(context.sqs, session.requestQueueUrl, 2);
    assert.equal(returned.json.id, 1);
  });
});

Deno.test("SqsInbox close() makes every message it still holds visible again at once", async () => {
  await withBroker(async (context) => {
    const queue = await context.queue("inbox");
    const inbox = new SqsInbox({ sqs: context.sqs, queueUrl: queue.url, waitTimeSeconds: 0 });
    context.cleanup(() => inbox.close());
    const held = Promise.withResolvers<void>();
    await inbox.start(() => held.resolve());
    await sendRaw(context.sqs, queue.url, '{"held":true}');
    await held.promise;
    await inbox.close();
    // The queue's visibility timeout is 30 s: only a hand-back makes it visible this soon.
    assert.deepEqual((await receiveOne(context.sqs, queue.url, 2)).json, { held: true });
  });
});

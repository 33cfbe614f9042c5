/**
 * An `SqsInbox` under load and at rest: it runs one long poll while receives come back short,
 * opens more (up to `pollers`) while they come back full, and closes them again when they do
 * not; a backlog of acknowledgements goes out in several delete calls at once.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { SqsInbox } from "../transports/aws/sqs_inbox.ts";
import type { InboxDelivery } from "../session/inbox.ts";
import { type BrokerContext, eventually, withBroker } from "./_fixture.ts";
import { messagesOn, sendRaw } from "./_raw_sqs.ts";

/** Puts `count` messages on the queue, ten per call. */
async function burst(sqs: SQSClient, queueUrl: string, count: number): Promise<void> {
  for (let first = 0; first < count; first += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Array.from({ length: Math.min(10, count - first) }, (_, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify({ n: first + i }),
        })),
      }),
    );
  }
}

/**
 * An inbox on a fresh queue that settles each delivery (acknowledges it, unless told otherwise),
 * noting the polls running at each delivery, the receive calls in flight, and the most receive
 * and delete calls seen in flight at once (the SDK path, where a middleware sees them).
 */
async function watchedInbox(
  context: BrokerContext,
  pollers: number,
  waitTimeSeconds = 20,
  settle = (delivery: InboxDelivery) => delivery.ack(),
) {
  const queue = await context.queue("adaptive");
  const sqs = context.broker.sqsClient();
  context.cleanup(() => sqs.destroy());
  const seen = {
    received: 0,
    receives: 0,
    receiving: 0,
    mostReceiving: 0,
    deleting: 0,
    mostDeleting: 0,
    pollersAtDelivery: [] as number[],
  };
  sqs.middlewareStack.add((next, { commandName }) => async (args) => {
    if (commandName === "DeleteMessageBatchCommand") {
      seen.mostDeleting = Math.max(seen.mostDeleting, ++seen.deleting);
      try {
        return await next(args);
      } finally {
        seen.deleting--;
      }
    }
    if (commandName !== "ReceiveMessageCommand") return next(args);
    seen.mostReceiving = Math.max(seen.mostReceiving, ++seen.receiving);
    try {
      return await next(args);
    } finally {
      seen.receiving--;
      seen.receives++;
    }
  }, { step: "initialize", name: "adaptivePollingWatch" });
  const inbox = new SqsInbox({
    sqs,
    queueUrl: queue.url,
    pollers,
    waitTimeSeconds,
    awsHttp: "sdk",
  });
  context.cleanup(() => inbox.close());
  await inbox.start((deliveries: InboxDelivery[]) => {
    seen.pollersAtDelivery.push(inbox.status.pollers);
    seen.received += deliveries.length;
    for (const delivery of deliveries) settle(delivery);
  });
  return { inbox, queueUrl: queue.url, seen };
}

Deno.test("SqsInbox opens a second long poll while receives come back full, and closes it when one does not", async () => {
  await withBroker(async (context) => {
    const { inbox, queueUrl, seen } = await watchedInbox(context, 2);
    assert.equal(inbox.status.pollers, 1);
    await burst(context.sqs, queueUrl, 45);
    await eventually(() => seen.received === 45);
    assert.ok(
      seen.pollersAtDelivery.includes(2),
      `polls running at each delivery: ${seen.pollersAtDelivery}`,
    );
    assert.equal(seen.mostReceiving, 2, "at most `pollers` receives at once");
    // The backlog is gone: the next short receive ends the second poll, the first one stays.
    await eventually(() => inbox.status.pollers === 1);
    await sendRaw(context.sqs, queueUrl, '{"after":"burst"}');
    await eventually(() => seen.received === 46);
    assert.equal(inbox.status.pollers, 1);
  });
});

Deno.test("SqsInbox keeps one long poll on a queue whose receives come back short, however many it may open", async () => {
  await withBroker(async (context) => {
    // Empty receives return at once with no wait: many receives in a short time.
    const { inbox, queueUrl, seen } = await watchedInbox(context, 4, 0);
    for (let i = 0; i < 5; i++) await burst(context.sqs, queueUrl, 3);
    await eventually(() => seen.received === 15 && seen.receives >= 30);
    assert.equal(seen.mostReceiving, 1, "a second receive ran at the same time");
    assert.equal(inbox.status.pollers, 1);
    assert.ok(seen.pollersAtDelivery.every((pollers) => pollers === 1));
  });
});

Deno.test("SqsInbox with pollers: 1 never runs a second long poll, even while receives come back full", async () => {
  await withBroker(async (context) => {
    const { inbox, queueUrl, seen } = await watchedInbox(context, 1);
    await burst(context.sqs, queueUrl, 35);
    await eventually(() => seen.received === 35);
    assert.equal(seen.mostReceiving, 1);
    assert.equal(inbox.status.pollers, 1);
  });
});

Deno.test("SqsInbox close() ends every long poll it opened, and then reports none", async () => {
  await withBroker(async (context) => {
    const { inbox, queueUrl, seen } = await watchedInbox(context, 3);
    await burst(context.sqs, queueUrl, 100);
    await eventually(() => inbox.status.pollers === 3);
    await inbox.close();
    assert.equal(inbox.status.pollers, 0);
    assert.equal(seen.receiving, 0, "a receive is still in flight");
    assert.equal(inbox.status.running, false);
  });
});

Deno.test("SqsInbox deletes a backlog of acknowledged messages with several calls at once", async () => {
  await withBroker(async (context) => {
    const held: InboxDelivery[] = [];
    const { inbox, queueUrl, seen } = await watchedInbox(context, 1, 20, (delivery) => {
      held.push(delivery);
    });
    await burst(context.sqs, queueUrl, 60);
    await eventually(() => seen.received === 60);
    for (const delivery of held) delivery.ack();
    await eventually(async () => await messagesOn(context.sqs, queueUrl) === 0);
    assert.ok(seen.mostDeleting > 1, "one delete call at a time for a backlog of 60");
    assert.ok(seen.mostDeleting <= 4, `${seen.mostDeleting} delete calls at once`);
    await inbox.close();
  });
});

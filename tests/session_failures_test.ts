import assert from "node:assert/strict";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { MemorySessionStore, type SessionRecord } from "../session/session_store.ts";
import { SqsInbox, SqsServer } from "../transports/sqs/mod.ts";
import {
  type BrokerContext,
  connectSqsClient,
  createTestServer,
  eventually,
  recordingLogger,
  withBroker,
} from "./_fixture.ts";
import type { InboxDelivery } from "../session/inbox.ts";

/** A store whose first write fails, as a store briefly out of reach would. */
class FlakyStore extends MemorySessionStore {
  failures = 1;
  override set(record: SessionRecord): Promise<void> {
    if (this.failures-- > 0) return Promise.reject(new Error("store unreachable"));
    return super.set(record);
  }
}

Deno.test("SessionHost: an initialize redelivered after a failed store write joins the session it opened instead of opening a second one", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("requests");
    const replies = await context.queue("replies");
    const errors: Error[] = [];
    const store = new FlakyStore();
    const server = new SqsServer({
      sqs: context.sqs,
      requestQueueUrl: requests.url,
      createServer: () => createTestServer(),
      store,
      waitTimeSeconds: 1,
      logger: recordingLogger(),
      onerror: (error) => void errors.push(error),
    });
    await server.start();
    context.cleanup(() => server.close());
    const { client } = await connectSqsClient(context, requests.url, replies.url);
    assert.deepEqual(await client.ping(), {});
    assert.ok(errors.some((error) => /store unreachable/.test(error.message)));
    // The store holds one record either way (the first write failed): only the host can tell
    // whether the redelivery opened a second session.
    assert.equal(store.size, 1);
    assert.equal(server.status.sessions, 1);
  });
});

Deno.test("SqsInbox turns a message its decoder cannot read into a parse error instead of stranding it", async () => {
  await withBroker(async (context) => {
    const queue = await context.queue("inbox");
    await context.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "x" }));
    const inbox = new SqsInbox({
      sqs: context.sqs,
      queueUrl: queue.url,
      waitTimeSeconds: 1,
      decode: () => {
        throw new Error("decoder bug");
      },
    });
    const received: InboxDelivery[] = [];
    await inbox.start((deliveries) => {
      for (const delivery of deliveries) {
        received.push(delivery);
        delivery.ack();
      }
    });
    await eventually(() => received.length === 1);
    const [first] = received;
    assert.equal(first.incoming.ok, false);
    if (!first.incoming.ok) {
      assert.equal(first.incoming.invalid.error.code, -32700);
      assert.match(first.incoming.invalid.error.message, /decoder bug/);
    }
    await inbox.close();
  });
});

/** The URL of a queue that does not exist, beside one that does. */
async function missingQueueUrl(context: BrokerContext): Promise<string> {
  const queue = await context.queue("exists");
  return queue.url.replace(/exists-[^/]+$/, "missing");
}

Deno.test("SqsInbox reports a queue that does not exist when it starts", async () => {
  await withBroker(async (context) => {
    const inbox = new SqsInbox({
      sqs: context.sqs,
      queueUrl: await missingQueueUrl(context),
      waitTimeSeconds: 1,
    });
    await assert.rejects(inbox.start(() => {}), /GetQueueAttributes failed/);
    await inbox.close();
  });
});

Deno.test("SqsServer.start() on a queue that does not exist rejects and leaves nothing running", async () => {
  await withBroker(async (context) => {
    const server = new SqsServer({
      sqs: context.sqs,
      requestQueueUrl: await missingQueueUrl(context),
      waitTimeSeconds: 1,
      createServer: () => createTestServer(),
      logger: recordingLogger(),
    });
    await assert.rejects(server.start(), /GetQueueAttributes failed/);
    assert.equal(server.status.running, false);
    await server.close();
  });
});

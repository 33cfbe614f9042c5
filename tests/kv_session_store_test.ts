import assert from "node:assert/strict";
import { type KvLike, KvSessionStore } from "../session/kv_session_store.ts";
import type { SessionRecord } from "../session/session_store.ts";
import { SqsServer } from "../transports/sqs/mod.ts";
import {
  connectSqsClient,
  createTestServer,
  recordingLogger,
  textOf,
  withBroker,
} from "./_fixture.ts";

const record: SessionRecord = {
  id: "0123456789abcdef0123456789abcdef",
  clientId: "client-1",
  returnAddress: "https://sqs.us-east-1.amazonaws.com/123456789012/replies",
  initialize: { jsonrpc: "2.0", id: 0, method: "initialize", params: {} },
  createdAt: 1,
  lastActiveAt: 2,
};

Deno.test("KvSessionStore keeps, returns and forgets a session record", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new KvSessionStore(kv);
    assert.equal(await store.get(record.id), undefined);
    await store.set(record);
    assert.deepEqual(await store.get(record.id), record);
    await store.delete(record.id);
    assert.equal(await store.get(record.id), undefined);
  } finally {
    kv.close();
  }
});

Deno.test("KvSessionStore writes each record to expire, after a day unless expireInMs says otherwise", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    // Deno KV removes expired records only about a minute late: what is checked is the expiry
    // each write asks for.
    const expiries: Array<number | undefined> = [];
    const recording: KvLike = {
      get: (key) => kv.get(key),
      set: (key, value, options) => {
        expiries.push(options?.expireIn);
        return kv.set(key, value, options);
      },
      delete: (key) => kv.delete(key),
    };
    await new KvSessionStore(recording).set(record);
    await new KvSessionStore(recording, { expireInMs: 5_000 }).set(record);
    assert.deepEqual(expiries, [86_400_000, 5_000]);
    assert.deepEqual(await new KvSessionStore(kv).get(record.id), record);
  } finally {
    kv.close();
  }
});

Deno.test("KvSessionStore lets a second worker on the same database serve a session the first created", async () => {
  await withBroker(async (context) => {
    const kv = await Deno.openKv(":memory:");
    context.cleanup(() => kv.close());
    const requests = await context.queue("requests");
    const replies = await context.queue("replies");
    const serve = async (name: string) => {
      const server = new SqsServer({
        sqs: context.sqs,
        requestQueueUrl: requests.url,
        // Each worker has its own store object; only the database is shared.
        store: new KvSessionStore(kv),
        createServer: () => createTestServer({ work: () => Promise.resolve(name) }),
        waitTimeSeconds: 1,
        logger: recordingLogger(),
      });
      await server.start();
      context.cleanup(() => server.close());
      return server;
    };
    const first = await serve("first");
    const { client } = await connectSqsClient(context, requests.url, replies.url);
    await first.close();
    await serve("second");
    assert.equal(textOf(await client.callTool({ name: "work", arguments: {} })), "second");
  });
});

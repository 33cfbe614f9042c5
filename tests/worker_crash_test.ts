import assert from "node:assert/strict";
import { KvSessionStore } from "../session/kv_session_store.ts";
import { createTestServer, eventually, startSqsServer, withBroker } from "./_fixture.ts";
import { messagesOn, rawSession, receiveNone, receiveOne, sendRequest } from "./_raw_sqs.ts";
import { spawnWorker } from "./_worker.ts";

Deno.test("SQS: a request whose worker is killed mid-request is answered once by another worker sharing the store", async () => {
  await withBroker(async (context) => {
    // A short visibility timeout: the dead worker's message shows again within a second.
    const requests = await context.queue("requests", { VisibilityTimeout: "1" });
    const replies = await context.queue("replies");
    const kvPath = await Deno.makeTempFile({ prefix: "asyncmcp-kv-", suffix: ".sqlite" });
    context.cleanup(() => Deno.remove(kvPath));
    const first = spawnWorker(context, "./_worker_process.ts", [requests.url, kvPath]);
    await first.printed("ready");
    const session = await rawSession(context.sqs, requests.url, replies.url);
    const request = (id: number, method: string, params?: Record<string, unknown>) =>
      sendRequest(context.sqs, requests.url, session, id, method, params);
    await request(1, "tools/call", { name: "work", arguments: {} });
    await first.printed("started");
    // A round trip through the worker while the call runs: whatever it would settle early about
    // the call (an acknowledgement on receipt) has reached the broker before the kill.
    await request(2, "ping");
    assert.equal((await receiveOne(context.sqs, replies.url)).json.id, 2);
    // Killed once the ping's message is gone too, or it would be answered again after the kill.
    await eventually(async () => (await messagesOn(context.sqs, requests.url)) === 1);
    await first.kill();

    const kv = await Deno.openKv(kvPath);
    context.cleanup(() => kv.close());
    await startSqsServer(context, requests.url, {
      store: new KvSessionStore(kv),
      createServer: () =>
        createTestServer({ work: () => Promise.resolve("done by the second worker") }),
    });
    const answer = await receiveOne(context.sqs, replies.url);
    assert.deepEqual(answer.json, {
      jsonrpc: "2.0",
      id: 1,
      result: { content: [{ type: "text", text: "done by the second worker" }] },
    });
    assert.equal(answer.attributes.SessionId.StringValue, session.sessionId);
    assert.ok(await receiveNone(context.sqs, replies.url, 1), "the request was answered twice");
    await eventually(async () => (await messagesOn(context.sqs, requests.url)) === 0);
  });
});

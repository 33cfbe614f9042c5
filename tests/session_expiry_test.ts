/**
 * When sessions end by themselves, across workers that share a store: the idle sweep of one
 * worker, the stored record another worker reads, and requests still running.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MemorySessionStore } from "../session/session_store.ts";
import type { SqsServerOptions } from "../transports/sqs/mod.ts";
import {
  type BrokerContext,
  createTestServer,
  eventually,
  gatedWork,
  type LoggedEvent,
  startSqsServer,
  withBroker,
} from "./_fixture.ts";
import { rawSession, receiveOne, sendRequest } from "./_raw_sqs.ts";

/** Sends `method` as a request of the session to `queueUrl`; resolves with its answer. */
async function ask(
  context: BrokerContext,
  to: { queueUrl: string; replies: string },
  session: { sessionId: string; clientId: string },
  id: number,
  method: string,
  params?: Record<string, unknown>,
) {
  await sendRequest(context.sqs, to.queueUrl, session, id, method, params);
  return await receiveOne(context.sqs, to.replies);
}

function logged(events: LoggedEvent[], event: string, sessionId: string): boolean {
  return events.some((logged) => logged.event === event && logged.fields.sessionId === sessionId);
}

Deno.test("SessionHost: a stored session past its idle timeout is not rebuilt by another worker", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("requests");
    const replies = await context.queue("replies");
    const store = new MemorySessionStore();
    const { server: first } = await startSqsServer(context, requests.url, { store });
    const session = await rawSession(context.sqs, requests.url, replies.url);
    await first.close();
    // For this worker every stored session is long idle: its timeout is a millisecond.
    const { server: second, events } = await startSqsServer(context, requests.url, {
      store,
      idleTimeoutMs: 1,
    });
    await sendRequest(context.sqs, requests.url, session, 1, "ping");
    await eventually(() =>
      events.some((event) =>
        event.event === "message.refused" && event.fields.reason === "unknown or expired session"
      )
    );
    assert.equal(second.status.sessions, 0);
    assert.equal(await store.get(session.sessionId), undefined, "the expired record was kept");
  });
});

Deno.test("SessionHost: the idle sweep keeps the stored record of a session another worker kept active", async () => {
  await withBroker(async (context) => {
    const replies = await context.queue("replies");
    const store = new MemorySessionStore();
    const idleTimeoutMs = 400;
    // Workers on one store, each reading its own queue, so that the test picks who gets what.
    const serve = async (name: string, options: Partial<SqsServerOptions> = {}) => {
      const queue = await context.queue(name);
      const started = await startSqsServer(context, queue.url, { store, ...options });
      return { ...started, to: { queueUrl: queue.url, replies: replies.url } };
    };
    const idle = await serve("idle-worker", { idleTimeoutMs });
    const busy = await serve("busy-worker", { idleTimeoutMs });
    const session = await rawSession(context.sqs, idle.to.queueUrl, replies.url);
    const activeAt = async () => (await store.get(session.sessionId))!.lastActiveAt;
    const createdAt = await activeAt();
    // The busy worker serves the session, and writes that to the store, for half the timeout:
    // the record is then fresher than the idle worker's copy by a quarter of it at least.
    for (let id = 1; (await activeAt()) - createdAt < idleTimeoutMs / 2; id++) {
      assert.deepEqual((await ask(context, busy.to, session, id, "ping")).json.result, {});
    }
    await busy.server.close();
    await eventually(() => logged(idle.events, "session.idle_ended", session.sessionId));
    // A worker that never held the session serves it: the record is still in the store.
    const third = await serve("third-worker");
    assert.deepEqual((await ask(context, third.to, session, 1000, "ping")).json.result, {});
  });
});

Deno.test("SessionHost: the idle sweep does not end a session whose request is still running", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("requests");
    const replies = await context.queue("replies");
    const gate = gatedWork();
    const { server, events } = await startSqsServer(context, requests.url, {
      idleTimeoutMs: 300,
      createServer: () => createTestServer({ work: gate.work }),
    });
    context.cleanup(() => gate.finish());
    const to = { queueUrl: requests.url, replies: replies.url };
    const running = await rawSession(context.sqs, requests.url, replies.url);
    const answer = ask(context, to, running, 1, "tools/call", { name: "work", arguments: {} });
    await gate.started;
    // Active after the running one: once the sweep ends it, the running one was idle as long.
    const quiet = await rawSession(
      context.sqs,
      requests.url,
      (await context.queue("quiet-replies")).url,
    );
    await eventually(() => logged(events, "session.idle_ended", quiet.sessionId));
    assert.ok(!logged(events, "session.idle_ended", running.sessionId));
    assert.equal(server.status.sessions, 1);
    gate.finish("finished");
    assert.deepEqual((await answer).json.result, { content: [{ type: "text", text: "finished" }] });
  });
});

/**
 * A client's stateless 2026-07-28 requests share the server built for its first one, as a stdio
 * connection does, for as long as they keep coming; other clients never share it.
 */

import assert from "node:assert/strict";
import { SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { McpServer } from "../sdk_v2.ts";
import type { ServerFactoryContext } from "../session/session_host.ts";
import { SqsClientTransport } from "../transports/sqs/mod.ts";
import { connectV2Client, sqsEras } from "./_eras_harness.ts";
import {
  type BrokerContext,
  eventually,
  recordingLogger,
  startSqsServer,
  textOf,
  withBroker,
} from "./_fixture.ts";
import { envelope, rawModernClient } from "./_raw_modern_client.ts";
import { pythonAttributes, receiveOne, recordCalls, type RecordedCall } from "./_raw_sqs.ts";
import { createV2TestClient, createV2TestServer, newV2Probe, type V2Probe } from "./_v2_fixture.ts";

/** A factory of v2 test servers that counts the servers it built and the ones closed. */
function countingFactory(probe: V2Probe = newV2Probe()) {
  const counts = { built: 0, closed: 0 };
  return {
    counts,
    probe,
    createServer: (context: ServerFactoryContext): McpServer => {
      counts.built++;
      const server = createV2TestServer(probe, context);
      const close = server.close.bind(server);
      server.close = async () => {
        counts.closed++;
        await close();
      };
      return server;
    },
  };
}

/** A connected v2 client over SQS with the given client id and response queue. */
async function sqsClient(
  context: BrokerContext,
  requestQueueUrl: string,
  responseQueueUrl: string,
  clientId?: string,
) {
  const client = createV2TestClient();
  await client.connect(
    new SqsClientTransport({
      sqs: context.sqs,
      requestQueueUrl,
      responseQueueUrl,
      clientId,
      waitTimeSeconds: 1,
      logger: recordingLogger(),
    }),
  );
  context.cleanup(() => client.close());
  return client;
}

Deno.test("SQS: a client's 2026-07-28 requests are all served by the server built for its first", async () => {
  await withBroker(async (context) => {
    const factory = countingFactory();
    const setup = await sqsEras.setup(context, { createServer: factory.createServer });
    const client = await connectV2Client(context, setup);
    for (let call = 1; call <= 5; call++) {
      assert.equal(textOf(await client.callTool({ name: "count_runs", arguments: {} })), `${call}`);
    }
    assert.equal(factory.counts.built, 1);
  });
});

Deno.test("SQS: two 2026-07-28 clients are served by servers of their own", async () => {
  await withBroker(async (context) => {
    const factory = countingFactory();
    const setup = await sqsEras.setup(context, { createServer: factory.createServer });
    const clients = [createV2TestClient("one"), createV2TestClient("two")];
    for (const client of clients) {
      await connectV2Client(context, setup, client);
    }
    await Promise.all(
      clients.map((client) => client.callTool({ name: "echo", arguments: { text: "x" } })),
    );
    assert.equal(factory.counts.built, 2);
  });
});

Deno.test("SQS: a client id sent from another return address gets a server of its own", async () => {
  await withBroker(async (context) => {
    const factory = countingFactory();
    const requests = await context.queue("requests");
    await startSqsServer(context, requests.url, { createServer: factory.createServer });
    const [first, second] = [await context.queue("first"), await context.queue("second")];
    const original = await sqsClient(context, requests.url, first.url, "same-client");
    const forger = await sqsClient(context, requests.url, second.url, "same-client");
    assert.equal(textOf(await original.callTool({ name: "echo", arguments: { text: "a" } })), "a");
    assert.equal(textOf(await forger.callTool({ name: "echo", arguments: { text: "b" } })), "b");
    assert.equal(factory.counts.built, 2);
  });
});

Deno.test("SQS: a client's server is closed after statelessIdleMs without requests, and the next request builds one", async () => {
  await withBroker(async (context) => {
    const factory = countingFactory();
    const setup = await sqsEras.setup(context, {
      createServer: factory.createServer,
      statelessIdleMs: 200,
    });
    const client = await connectV2Client(context, setup);
    await client.callTool({ name: "echo", arguments: { text: "x" } });
    await eventually(() => factory.counts.closed === 1);
    assert.equal(factory.counts.built, 1);
    assert.equal(textOf(await client.callTool({ name: "echo", arguments: { text: "y" } })), "y");
    assert.equal(factory.counts.built, 2);
  });
});

Deno.test("SQS: an open subscriptions/listen keeps its client's server past statelessIdleMs", async () => {
  await withBroker(async (context) => {
    const factory = countingFactory();
    const setup = await sqsEras.setup(context, {
      createServer: factory.createServer,
      statelessIdleMs: 50,
    });
    const client = createV2TestClient();
    let changes = 0;
    client.setNotificationHandler("notifications/tools/list_changed", () => void changes++);
    await connectV2Client(context, setup, client);
    const subscription = await client.listen({ toolsListChanged: true });
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(factory.counts.closed, 0);
    setup.server.notifyChanged("tools");
    await eventually(() => changes === 1);
    await subscription.close();
  });
});

Deno.test("SQS: cancelling one request on a shared server leaves the client's other requests running", async () => {
  await withBroker(async (context) => {
    const factory = countingFactory();
    const setup = await sqsEras.setup(context, { createServer: factory.createServer });
    const client = await connectV2Client(context, setup);
    const aborts = { cancelled: new AbortController(), kept: new AbortController() };
    const calls = Object.entries(aborts).map(([id, abort]) =>
      client.callTool({ name: "wait_for_cancel", arguments: { id } }, {
        signal: abort.signal,
      }).catch((error: Error) => error)
    );
    await eventually(() => factory.probe.started.length === 2);
    aborts.cancelled.abort("the user gave up");
    assert.ok(await calls[0] instanceof Error);
    await eventually(() => factory.probe.aborted.includes("cancelled"));
    assert.equal(textOf(await client.callTool({ name: "echo", arguments: { text: "x" } })), "x");
    assert.deepEqual(factory.probe.aborted, ["cancelled"]);
    assert.equal(factory.counts.built, 1);
    aborts.kept.abort("done");
    await calls[1];
  });
});

Deno.test("SQS: a factory that fails is asked again by the client's next request", async () => {
  await withBroker(async (context) => {
    const factory = countingFactory();
    let failures = 1;
    const setup = await sqsEras.setup(context, {
      createServer: (serverContext) => {
        if (failures-- > 0) throw new Error("the database is not reachable yet");
        return factory.createServer(serverContext);
      },
    });
    const raw = await rawModernClient(await setup.transport());
    context.cleanup(() => raw.close());
    const echo = { name: "echo", arguments: { text: "x" } };
    const failed = await raw.request("tools/call", echo);
    assert.match(failed.error?.message ?? "", /server failed to start: .*not reachable yet/);
    const served = await raw.request("tools/call", echo);
    assert.deepEqual(served.result?.content, [{ type: "text", text: "x" }]);
    assert.equal(factory.counts.built, 1);
  });
});

Deno.test("SQS: the answers to a client's 2026-07-28 requests that arrive together leave the server in one batch", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("requests");
    const replies = await context.queue("replies");
    const serverSqs = context.broker.sqsClient();
    context.cleanup(() => serverSqs.destroy());
    const calls = recordCalls(serverSqs);
    await startSqsServer(context, requests.url, {
      sqs: serverSqs,
      awsHttp: "sdk",
      createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
    });
    const attributes = pythonAttributes({ ClientId: "c" });
    const call = (id: number) => ({
      Id: `m${id}`,
      MessageBody: JSON.stringify({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: {
          name: "echo",
          arguments: { text: `call ${id}` },
          _meta: { ...envelope(), responseQueueUrl: replies.url },
        },
      }),
      MessageAttributes: attributes,
    });
    // The first request opens the client's connection; the ten after it find it open.
    const { Id: _first, ...first } = call(0);
    await context.sqs.send(new SendMessageCommand({ QueueUrl: requests.url, ...first }));
    assert.equal((await receiveOne(context.sqs, replies.url)).json.id, 0);
    const before = calls.length;
    await context.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: requests.url,
        Entries: Array.from({ length: 10 }, (_, index) => call(index + 1)),
      }),
    );
    const answered = new Set<unknown>();
    while (answered.size < 10) answered.add((await receiveOne(context.sqs, replies.url)).json.id);
    // One send call per receive that brought some of the ten (a broker may split them).
    const receives = calls.filter((call) =>
      call.command === "ReceiveMessageCommand" &&
      (call.output?.Messages ?? []).some((message: { Body?: string }) =>
        JSON.parse(message.Body ?? "{}").id >= 1
      )
    ).length;
    const sends = sentCalls(calls.slice(before), replies.url);
    // The embedded broker hands the ten over in one receive; a broker that splits them into many
    // could not show answers travelling together.
    assert.ok(receives <= 3, `the ten requests came in ${receives} receives`);
    assert.ok(sends <= receives, `${sends} send calls for 10 answers from ${receives} receives`);
  });
});

/** The send calls (single or batch) the recorded client made to `queueUrl`. */
function sentCalls(calls: RecordedCall[], queueUrl: string): number {
  return calls.filter((call) =>
    call.input.QueueUrl === queueUrl &&
    (call.command === "SendMessageCommand" || call.command === "SendMessageBatchCommand")
  ).length;
}

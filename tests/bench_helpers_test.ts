/**
 * The benchmark's own parts that its figures rest on: the load runner, the raw pipeline and the
 * idle sessions of the memory figure. Nothing here is timed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runLoad } from "../bench/load.ts";
import {
  rawAnswer,
  RawPipelineClient,
  rawRequest,
  serveRawPipeline,
} from "../bench/raw_pipeline.ts";
import { openIdleSessions } from "../bench/session_memory.ts";
import { median, percentile } from "../bench/stats.ts";
import { createExampleServer } from "../examples/example_server.ts";
import { Client, InMemoryTransport, type JSONRPCMessage } from "../sdk.ts";
import { encodeAttributes } from "../session/envelope_codec.ts";
import { eventually, startSqsServer, withBroker } from "./_fixture.ts";
import { messagesOn } from "./_raw_sqs.ts";

Deno.test("runLoad makes exactly the calls asked for, never more than inFlight at once", async () => {
  let running = 0;
  let most = 0;
  let made = 0;
  const figures = await runLoad(
    async () => {
      made++;
      most = Math.max(most, ++running);
      await new Promise((resolve) => queueMicrotask(() => resolve(undefined)));
      running--;
    },
    4,
    50,
  );
  assert.equal(made, 50);
  assert.equal(most, 4);
  assert.ok(figures.callsPerSecond > 0 && figures.p99 >= figures.p50);
});

Deno.test("percentile and median pick the sample below which that share lies", () => {
  assert.equal(percentile([5, 1, 4, 2, 3], 0.5), 3);
  assert.equal(percentile([5, 1, 4, 2, 3], 0.99), 5);
  assert.equal(median([2, 9, 4]), 4);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("The raw pipeline sends the bodies a v1 client and server exchange for a tools/call", async () => {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const server = createExampleServer();
  await server.connect(serverSide);
  const sent: JSONRPCMessage[] = [];
  const received: JSONRPCMessage[] = [];
  const send = clientSide.send.bind(clientSide);
  clientSide.send = (message, options) => {
    sent.push(message);
    return send(message, options);
  };
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(clientSide);
  const onmessage = clientSide.onmessage!;
  clientSide.onmessage = (message, extra) => {
    received.push(message);
    onmessage(message, extra);
  };
  await client.callTool({ name: "echo", arguments: { text: "load" } });
  const id = (sent.at(-1) as { id: number }).id;
  assert.equal(encodeAttributes(rawRequest(id, "c")).body, JSON.stringify(sent.at(-1)));
  assert.equal(encodeAttributes(rawAnswer(id, "c")).body, JSON.stringify(received.at(-1)));
  assert.deepEqual(
    Object.keys(encodeAttributes(rawRequest(id, "c")).attributes).sort(),
    ["ClientId", "MessageType", "Method", "ProtocolVersion", "RequestId", "SessionId", "Timestamp"],
  );
  await client.close();
  await server.close();
});

Deno.test("The raw pipeline answers every call through the broker and leaves both queues empty", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("raw-requests");
    const replies = await context.queue("raw-replies");
    const server = serveRawPipeline({
      sqs: context.sqs,
      queueUrl: requests.url,
      sendTo: replies.url,
      polls: 2,
    });
    context.cleanup(() => server.close());
    const client = new RawPipelineClient({
      sqs: context.sqs,
      queueUrl: replies.url,
      sendTo: requests.url,
      polls: 2,
    });
    client.start();
    context.cleanup(() => client.close());
    await runLoad(() => client.call(), 8, 40);
    await eventually(async () =>
      await messagesOn(context.sqs, requests.url) === 0 &&
      await messagesOn(context.sqs, replies.url) === 0
    );
  });
});

Deno.test("openIdleSessions leaves the server holding one session per client", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("memory-requests");
    const replies = await context.queue("memory-replies");
    const { server } = await startSqsServer(context, requests.url);
    await openIdleSessions({
      sqs: context.sqs,
      requestQueueUrl: requests.url,
      responseQueueUrl: replies.url,
      count: 25,
      clientIdPrefix: "idle-",
    });
    assert.equal(server.status.sessions, 25);
  });
});

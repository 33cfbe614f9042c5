import assert from "node:assert/strict";
import { DELIVERY_META_KEY } from "../transports/streamable_http_webhook/webhook_call_router.ts";
import { WebhookReceiver } from "../transports/webhook/webhook_receiver.ts";
import { eventually, newProbe, recordingLogger, textOf } from "./_fixture.ts";
import {
  connectHybridClient,
  initializeRequest,
  mcpHeaders,
  startHybridServer,
} from "./_streamable_http_webhook_fixture.ts";
import {
  createTaskTestServer,
  newTaskContext,
  taskIsCancelled,
  taskRunsToCompletion,
} from "./_task_fixture.ts";
import { type Cleanup, serveOnLoopback, withCleanup } from "./_webhook_fixture.ts";

/**
 * A receiver served on loopback that records every delivery's body before handling it; returns
 * the bodies seen and the receiver and webhook URL a client connects with.
 */
async function countingReceiver(cleanup: Cleanup) {
  const receiver = new WebhookReceiver({ logger: recordingLogger() });
  cleanup(() => receiver.close());
  const seen: string[] = [];
  const hook = await serveOnLoopback(cleanup, async (request) => {
    seen.push(await request.clone().text());
    return await receiver.fetch(request);
  });
  return { seen, receiver, webhookUrl: `${hook.url}/webhook` };
}

Deno.test("StreamableHTTP+Webhook: the SDK Client initializes a session over the hybrid transport", async () => {
  await withCleanup(async (cleanup) => {
    const { url, server } = await startHybridServer(cleanup);
    const { client, transport } = await connectHybridClient(cleanup, url);
    assert.equal(client.getServerVersion()?.name, "asyncmcp-test");
    assert.ok(transport.sessionId);
    assert.equal(server.sessionCount, 1);
  });
});

Deno.test("StreamableHTTP+Webhook: a quick tool is answered on the HTTP stream, not by webhook", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const counting = await countingReceiver(cleanup);
    const { client } = await connectHybridClient(cleanup, url, {
      receiver: counting.receiver,
      webhookUrl: counting.webhookUrl,
    });
    const result = await client.callTool({ name: "echo", arguments: { text: "quick" } });
    assert.equal(textOf(result), "quick");
    assert.equal(counting.seen.length, 0);
  });
});

Deno.test("StreamableHTTP+Webhook: a webhook tool's result arrives by webhook", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const counting = await countingReceiver(cleanup);
    const { client } = await connectHybridClient(cleanup, url, {
      receiver: counting.receiver,
      webhookUrl: counting.webhookUrl,
    });
    const result = await client.callTool({ name: "report", arguments: { topic: "tides" } });
    assert.equal(textOf(result), "report on tides");
    assert.equal(counting.seen.length, 1);
    assert.match(counting.seen[0], /report on tides/);
  });
});

Deno.test("StreamableHTTP+Webhook: tools/list marks the tools that answer by webhook", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const { client } = await connectHybridClient(cleanup, url);
    const { tools } = await client.listTools();
    const delivery = (name: string) =>
      tools.find((tool) => tool.name === name)?._meta?.[DELIVERY_META_KEY];
    assert.equal(delivery("progress"), "webhook", "chosen by the server option");
    assert.equal(delivery("report"), "webhook", "chosen by the tool's own definition");
    assert.equal(delivery("echo"), undefined);
  });
});

Deno.test("StreamableHTTP+Webhook: the POST of a webhook call ends at once while the tool still runs", async () => {
  await withCleanup(async (cleanup) => {
    const { promise: finish, resolve } = Promise.withResolvers<string>();
    const { url } = await startHybridServer(cleanup, {
      probe: { work: () => finish },
    });
    const deliveries: unknown[] = [];
    const sessionHeaders: Array<string | null> = [];
    const hook = await serveOnLoopback(cleanup, async (request) => {
      sessionHeaders.push(request.headers.get("mcp-session-id"));
      deliveries.push(await request.json());
      return Response.json({ status: "received" });
    });
    const init = await fetch(url, {
      method: "POST",
      headers: mcpHeaders(),
      body: JSON.stringify(initializeRequest({ webhookUrl: `${hook.url}/webhook` })),
    });
    const sessionId = init.headers.get("mcp-session-id")!;
    await init.body?.cancel();
    await (await fetch(url, {
      method: "POST",
      headers: mcpHeaders(sessionId),
      body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    })).body?.cancel();
    const call = await fetch(url, {
      method: "POST",
      headers: mcpHeaders(sessionId),
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: { name: "work", arguments: {} },
      }),
    });
    assert.equal(call.status, 200);
    assert.equal(call.headers.get("content-type"), "text/event-stream");
    // The whole body is read while the tool is still running: the exchange has ended.
    assert.doesNotMatch(await call.text(), /data:/);
    assert.equal(deliveries.length, 0);
    resolve("finished later");
    await eventually(() => deliveries.length === 1);
    assert.deepEqual((deliveries[0] as { id: number }).id, 7);
    assert.match(JSON.stringify(deliveries[0]), /finished later/);
    assert.deepEqual(sessionHeaders, [sessionId], "delivered with the standard session header");
    await (await fetch(url, { method: "DELETE", headers: mcpHeaders(sessionId) })).body?.cancel();
  });
});

Deno.test("StreamableHTTP+Webhook: progress of a webhook tool reaches the caller before its result", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const { client } = await connectHybridClient(cleanup, url);
    const progress: number[] = [];
    const result = await client.callTool(
      { name: "progress", arguments: { steps: 3 } },
      undefined,
      { onprogress: ({ progress: step }) => void progress.push(step) },
    );
    assert.equal(textOf(result), "3 steps");
    assert.deepEqual(progress, [1, 2, 3]);
  });
});

Deno.test("StreamableHTTP+Webhook: a webhook tool's elicitation request is answered by the client", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const { client } = await connectHybridClient(cleanup, url);
    const result = await client.callTool({ name: "ask_name", arguments: {} });
    assert.equal(textOf(result), "hello Ada");
  });
});

Deno.test("StreamableHTTP+Webhook: cancelling a webhook call aborts the tool on the server", async () => {
  await withCleanup(async (cleanup) => {
    const probe = newProbe();
    const { url } = await startHybridServer(cleanup, { probe: { probe } });
    const { client } = await connectHybridClient(cleanup, url);
    const controller = new AbortController();
    const call = client.callTool({ name: "wait_for_cancel", arguments: { id: "c1" } }, undefined, {
      signal: controller.signal,
    });
    await eventually(() => probe.started.includes("c1"));
    controller.abort("changed my mind");
    await assert.rejects(call);
    await eventually(() => probe.aborted.includes("c1"));
  });
});

Deno.test("StreamableHTTP+Webhook: deliveries are signed with the client's per-session secret", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const { client, transport } = await connectHybridClient(cleanup, url, {
      perSessionSecret: true,
    });
    const result = await client.callTool({ name: "report", arguments: { topic: "keys" } });
    assert.equal(textOf(result), "report on keys");
    assert.ok(transport.webhookUrl?.startsWith("http://127.0.0.1:"));
  });
});

Deno.test("StreamableHTTP+Webhook: a result the webhook never takes arrives on the session's stream", async () => {
  await withCleanup(async (cleanup) => {
    const { url, events } = await startHybridServer(cleanup, {
      maxAttempts: 3,
      initialDelayMs: 10,
    });
    let refused = 0;
    const hook = await serveOnLoopback(cleanup, () => {
      refused++;
      return new Response("down for maintenance", { status: 503 });
    });
    const { client } = await connectHybridClient(cleanup, url, {
      webhookUrl: `${hook.url}/webhook`,
    });
    const result = await client.callTool({ name: "report", arguments: { topic: "outages" } });
    assert.equal(textOf(result), "report on outages");
    assert.equal(refused, 3, "retried before giving up");
    assert.ok(events.some((event) => event.event === "webhook.delivery_failed"));
    assert.ok(events.some((event) => event.event === "webhook.fallback_to_stream"));
  });
});

Deno.test("StreamableHTTP+Webhook: a receiver down for a while gets the result after retries", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup, { initialDelayMs: 20 });
    const receiver = new WebhookReceiver({ logger: recordingLogger() });
    cleanup(() => receiver.close());
    let attempts = 0;
    const hook = await serveOnLoopback(cleanup, (request) => {
      attempts++;
      return attempts <= 2 ? new Response(null, { status: 502 }) : receiver.fetch(request);
    });
    const { client } = await connectHybridClient(cleanup, url, {
      receiver,
      webhookUrl: `${hook.url}/webhook`,
    });
    const result = await client.callTool({ name: "report", arguments: { topic: "patience" } });
    assert.equal(textOf(result), "report on patience");
    assert.equal(attempts, 3);
  });
});

Deno.test("StreamableHTTP+Webhook: without a webhook URL every tool answers on the HTTP stream", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const init = await fetch(url, {
      method: "POST",
      headers: mcpHeaders(),
      body: JSON.stringify(initializeRequest()),
    });
    const sessionId = init.headers.get("mcp-session-id")!;
    await init.body?.cancel();
    const call = await fetch(url, {
      method: "POST",
      headers: mcpHeaders(sessionId),
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "report", arguments: { topic: "plain" } },
      }),
    });
    assert.match(await call.text(), /report on plain/);
    await (await fetch(url, { method: "DELETE", headers: mcpHeaders(sessionId) })).body?.cancel();
  });
});

Deno.test("StreamableHTTP+Webhook: close() on the client ends the session on the server", async () => {
  await withCleanup(async (cleanup) => {
    const { url, server } = await startHybridServer(cleanup);
    const { client } = await connectHybridClient(cleanup, url);
    assert.equal(server.sessionCount, 1);
    await client.close();
    await eventually(() => server.sessionCount === 0);
  });
});

Deno.test("StreamableHTTP+Webhook: a task runs to its result, with its status pushed to the webhook", async () => {
  await withCleanup(async (cleanup) => {
    const tasks = newTaskContext();
    cleanup(() => tasks.done());
    const { url } = await startHybridServer(cleanup, {
      createServer: () => createTaskTestServer(tasks),
    });
    const counting = await countingReceiver(cleanup);
    const { client } = await connectHybridClient(cleanup, url, {
      receiver: counting.receiver,
      webhookUrl: counting.webhookUrl,
    });
    await taskRunsToCompletion(client);
    const methods = counting.seen.map((body) => JSON.parse(body).method);
    assert.ok(methods.includes("notifications/tasks/status"), `delivered: ${methods}`);
  });
});

Deno.test("StreamableHTTP+Webhook: tasks/cancel cancels a running task", async () => {
  await withCleanup(async (cleanup) => {
    const tasks = newTaskContext();
    cleanup(() => tasks.done());
    const { url } = await startHybridServer(cleanup, {
      createServer: () => createTaskTestServer(tasks),
    });
    const { client } = await connectHybridClient(cleanup, url);
    await taskIsCancelled(client);
  });
});

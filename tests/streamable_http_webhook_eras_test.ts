import assert from "node:assert/strict";
import { InMemoryServerEventBus, type JSONRPCMessage, type ServerEventBus } from "../sdk_v2.ts";
import { StreamableHttpWebhookClientTransport } from "../transports/streamable_http_webhook/streamable_http_webhook_client_transport.ts";
import { StreamableHttpWebhookServer } from "../transports/streamable_http_webhook/streamable_http_webhook_server.ts";
import { DELIVERY_META_KEY } from "../transports/streamable_http_webhook/webhook_tool_marks.ts";
import { WebhookReceiver } from "../transports/webhook/webhook_receiver.ts";
import {
  createTestClient,
  createTestServer,
  eventually,
  recordingLogger,
  textOf,
} from "./_fixture.ts";
import { envelope } from "./_raw_modern_client.ts";
import { createV2TestClient, createV2TestServer, newV2Probe } from "./_v2_fixture.ts";
import { allowLoopback, type Cleanup, serveOnLoopback, withCleanup } from "./_webhook_fixture.ts";

/** A hybrid server on loopback whose `count_runs` answers by webhook. */
async function hybrid(
  cleanup: Cleanup,
  sdk: "v1" | "v2",
  probe = newV2Probe(),
  bus?: ServerEventBus,
) {
  const server = new StreamableHttpWebhookServer({
    bus,
    createServer: (context) =>
      sdk === "v2" ? createV2TestServer(probe, context) : createTestServer({ probe }),
    webhookTools: ["count_runs"],
    addressPolicy: allowLoopback,
    logger: recordingLogger(),
  });
  const { url } = await serveOnLoopback(cleanup, server.fetch);
  cleanup(() => server.close());
  return { server, url: `${url}/mcp`, probe };
}

function transport(url: string) {
  return new StreamableHttpWebhookClientTransport({
    serverUrl: url,
    listen: true,
    perSessionSecret: true,
    logger: recordingLogger(),
  });
}

/** A transport whose webhook counts what the server delivers to it. */
async function countingTransport(cleanup: Cleanup, url: string) {
  const receiver = new WebhookReceiver({ logger: recordingLogger() });
  const delivered: string[] = [];
  const hook = await serveOnLoopback(cleanup, async (request) => {
    const response = await receiver.fetch(request.clone());
    delivered.push(String((await request.json()).id));
    return response;
  });
  return {
    delivered,
    transport: new StreamableHttpWebhookClientTransport({
      serverUrl: url,
      receiver,
      webhookUrl: `${hook.url}/webhook`,
      logger: recordingLogger(),
    }),
  };
}

Deno.test("StreamableHTTP+Webhook: a v2 client settles on 2026-07-28 and a webhook tool's result arrives by webhook", async () => {
  await withCleanup(async (cleanup) => {
    const { server, url, probe } = await hybrid(cleanup, "v2");
    const client = createV2TestClient();
    const { transport: through, delivered } = await countingTransport(cleanup, url);
    await client.connect(through);
    cleanup(() => client.close());
    assert.equal(client.getNegotiatedProtocolVersion(), "2026-07-28");
    assert.equal(server.sessionCount, 0);
    const quick = await client.callTool({ name: "echo", arguments: { text: "quick" } });
    assert.equal(textOf(quick), "quick");
    assert.deepEqual(delivered, [], "a quick tool's result went to the webhook");
    assert.equal(textOf(await client.callTool({ name: "count_runs", arguments: {} })), "1");
    assert.equal(delivered.length, 1, "the webhook tool's result did not come by webhook");
    assert.equal(probe.runs, 1);
  });
});

Deno.test("StreamableHTTP+Webhook: a 2026-07-28 tools/list marks the tools named in webhookTools, as a session's does", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await hybrid(cleanup, "v2");
    const client = createV2TestClient();
    const { transport: through } = await countingTransport(cleanup, url);
    await client.connect(through);
    cleanup(() => client.close());
    assert.equal(client.getNegotiatedProtocolVersion(), "2026-07-28");
    const { tools } = await client.listTools();
    const marks = Object.fromEntries(
      tools.map((tool) => [tool.name, tool._meta?.[DELIVERY_META_KEY]]),
    );
    assert.equal(marks.count_runs, "webhook");
    assert.equal(marks.echo, undefined);
  });
});

Deno.test("StreamableHTTP+Webhook: a v1 client keeps a 2025 session on the same v2 server at the same time", async () => {
  await withCleanup(async (cleanup) => {
    const { server, url } = await hybrid(cleanup, "v2");
    const modern = createV2TestClient();
    await modern.connect(transport(url));
    cleanup(() => modern.close());
    const legacy = createTestClient();
    await legacy.connect(transport(url));
    cleanup(() => legacy.close());
    assert.equal(server.sessionCount, 1);
    const [a, b] = await Promise.all([
      modern.callTool({ name: "count_runs", arguments: {} }),
      legacy.callTool({ name: "count_runs", arguments: {} }),
    ]);
    assert.deepEqual([textOf(a), textOf(b)].sort(), ["1", "2"]);
  });
});

Deno.test("StreamableHTTP+Webhook: a v2 client falls back to a 2025 session with a v1 server", async () => {
  await withCleanup(async (cleanup) => {
    const { server, url } = await hybrid(cleanup, "v1");
    const client = createV2TestClient();
    await client.connect(transport(url));
    cleanup(() => client.close());
    assert.equal(client.getNegotiatedProtocolVersion(), "2025-11-25");
    assert.equal(server.sessionCount, 1);
    assert.equal(textOf(await client.callTool({ name: "count_runs", arguments: {} })), "1");
  });
});

Deno.test("StreamableHTTP+Webhook: a change published on the server's bus reaches an open 2026-07-28 subscriptions/listen, though every request has a server of its own", async () => {
  await withCleanup(async (cleanup) => {
    const bus = new InMemoryServerEventBus();
    const { url } = await hybrid(cleanup, "v2", newV2Probe(), bus);
    const client = createV2TestClient();
    let changes = 0;
    client.setNotificationHandler("notifications/tools/list_changed", () => void changes++);
    await client.connect(transport(url));
    cleanup(() => client.close());
    const subscription = await client.listen({ toolsListChanged: true });
    cleanup(() => subscription.close());
    bus.publish({ kind: "tools_list_changed" });
    await eventually(() => changes === 1);
  });
});

Deno.test("StreamableHTTP+Webhook: a 2026-07-28 request for a method the server lacks gets the server's 404 answer (-32601) as its answer, not a transport error", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await hybrid(cleanup, "v2");
    const client = transport(url);
    const answered = Promise.withResolvers<JSONRPCMessage>();
    const errors: Error[] = [];
    client.onmessage = (message) => answered.resolve(message);
    client.onerror = (error) => void errors.push(error);
    await client.start();
    cleanup(() => client.close());
    client.setProtocolVersion("2026-07-28");
    await client.send({
      jsonrpc: "2.0",
      id: 11,
      method: "tasks/list",
      params: { _meta: envelope() },
    } as JSONRPCMessage);
    const answer = await answered.promise as { id: number; error: { code: number } };
    assert.equal(answer.id, 11);
    assert.equal(answer.error.code, -32601);
    assert.deepEqual(errors, []);
  });
});

for (const status of [401, 403, 413, 429]) {
  Deno.test(`StreamableHTTP+Webhook client: a 2026-07-28 request refused with ${status} stays an HTTP failure for the caller and onerror, though its body is a JSON-RPC error`, async () => {
    await withCleanup(async (cleanup) => {
      // A gateway in front of the server that wants credentials, and says so in JSON-RPC too.
      const { url } = await serveOnLoopback(cleanup, async (request) => {
        const { id } = await request.json();
        return Response.json(
          { jsonrpc: "2.0", id, error: { code: -32001, message: "Refused" } },
          { status },
        );
      });
      const client = transport(`${url}/mcp`);
      const answers: JSONRPCMessage[] = [];
      const errors: Array<Error & { status?: number }> = [];
      client.onmessage = (message) => void answers.push(message);
      client.onerror = (error) => void errors.push(error);
      await client.start();
      cleanup(() => client.close());
      client.setProtocolVersion("2026-07-28");
      const sent = client.send({
        jsonrpc: "2.0",
        id: 13,
        method: "tools/list",
        params: { _meta: envelope() },
      } as JSONRPCMessage);
      await assert.rejects(sent, (error: Error & { status?: number }) => error.status === status);
      assert.deepEqual(answers, []);
      assert.ok(errors.some((error) => error.status === status), `onerror heard ${errors}`);
    });
  });
}

Deno.test("StreamableHTTP+Webhook: a 2026-07-28 call needing a capability the client did not declare is refused 400 with -32021, as the SDK's entry refuses it", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await hybrid(cleanup, "v2");
    // `confirm` asks the user, and this client declared no elicitation capability.
    const refused = await fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/call",
        "Mcp-Name": "confirm",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 12,
        method: "tools/call",
        params: { name: "confirm", arguments: { action: "ship" }, _meta: envelope() },
      }),
    });
    assert.equal(refused.status, 400);
    const answer = await refused.json();
    assert.equal(answer.id, 12);
    assert.equal(answer.error.code, -32021);
  });
});

Deno.test("StreamableHTTP+Webhook: a factory that fails once is asked again by the next 2026-07-28 request", async () => {
  await withCleanup(async (cleanup) => {
    let calls = 0;
    const server = new StreamableHttpWebhookServer({
      createServer: (context) => {
        if (++calls === 1) throw new Error("the database is not up yet");
        return createV2TestServer(newV2Probe(), context);
      },
      addressPolicy: allowLoopback,
      logger: recordingLogger(),
    });
    const { url } = await serveOnLoopback(cleanup, server.fetch);
    cleanup(() => server.close());
    const list = () =>
      fetch(`${url}/mcp`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
          "MCP-Protocol-Version": "2026-07-28",
          "Mcp-Method": "tools/list",
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 14,
          method: "tools/list",
          params: { _meta: envelope() },
        }),
      });
    const failed = await list();
    assert.ok(failed.status >= 500, `status ${failed.status}`);
    await failed.body?.cancel();
    const served = await list();
    assert.equal(served.status, 200);
    const answer = await served.json();
    assert.ok(Array.isArray(answer.result.tools), JSON.stringify(answer));
  });
});

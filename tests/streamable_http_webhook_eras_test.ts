import assert from "node:assert/strict";
import { StreamableHttpWebhookClientTransport } from "../transports/streamable_http_webhook/streamable_http_webhook_client_transport.ts";
import { StreamableHttpWebhookServer } from "../transports/streamable_http_webhook/streamable_http_webhook_server.ts";
import { DELIVERY_META_KEY } from "../transports/streamable_http_webhook/webhook_tool_marks.ts";
import { WebhookReceiver } from "../transports/webhook/webhook_receiver.ts";
import { createTestClient, createTestServer, recordingLogger, textOf } from "./_fixture.ts";
import { createV2TestClient, createV2TestServer, newV2Probe } from "./_v2_fixture.ts";
import { allowLoopback, type Cleanup, serveOnLoopback, withCleanup } from "./_webhook_fixture.ts";

/** A hybrid server on loopback whose `count_runs` answers by webhook. */
async function hybrid(cleanup: Cleanup, sdk: "v1" | "v2", probe = newV2Probe()) {
  const server = new StreamableHttpWebhookServer({
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

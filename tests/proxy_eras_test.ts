import assert from "node:assert/strict";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StreamableHttpProxy } from "../proxy/http_proxy.ts";
import { StreamableHTTPClientTransport as StreamableHTTPClientTransportV1 } from "../sdk.ts";
import type { SessionOptions } from "../session/session_host.ts";
import type { Transport } from "../sdk.ts";
import { StreamableHttpWebhookClientTransport } from "../transports/streamable_http_webhook/streamable_http_webhook_client_transport.ts";
import { StreamableHttpWebhookServer } from "../transports/streamable_http_webhook/streamable_http_webhook_server.ts";
import { ERA_HARNESSES } from "./_eras_harness.ts";
import {
  type BrokerContext,
  createTestClient,
  recordingLogger,
  textOf,
  withBroker,
} from "./_fixture.ts";
import { createV2TestClient, createV2TestServer, newV2Probe } from "./_v2_fixture.ts";
import { allowLoopback, serveOnLoopback, sharedReceiver } from "./_webhook_fixture.ts";

/** A back end for the proxy: a server of each transport and the factory of its client transports. */
interface Backend {
  name: string;
  setup(context: BrokerContext, server: Pick<SessionOptions, "createServer">): Promise<{
    backend: () => Transport | Promise<Transport>;
    sessions: () => number;
  }>;
}

const BACKENDS: Backend[] = [
  ...ERA_HARNESSES.map((harness): Backend => ({
    name: harness.name,
    async setup(context, server) {
      const setup = await harness.setup(context, server);
      return { backend: () => setup.transport(), sessions: () => setup.server.status.sessions };
    },
  })),
  {
    name: "StreamableHTTP+Webhook",
    async setup(context, options) {
      const server = new StreamableHttpWebhookServer({
        createServer: options.createServer,
        addressPolicy: allowLoopback,
        logger: recordingLogger(),
      });
      const { url } = await serveOnLoopback(context.cleanup, server.fetch);
      context.cleanup(() => server.close());
      const receiver = await sharedReceiver(context.cleanup);
      return {
        backend: () =>
          new StreamableHttpWebhookClientTransport({
            serverUrl: `${url}/mcp`,
            receiver,
            logger: recordingLogger(),
          }),
        sessions: () => server.sessionCount,
      };
    },
  },
];

/** The proxy in front of `backend`, on loopback; its MCP endpoint's URL. */
async function proxyTo(context: BrokerContext, backend: () => Transport | Promise<Transport>) {
  const proxy = new StreamableHttpProxy({ backend, logger: recordingLogger() });
  const { url } = await serveOnLoopback(context.cleanup, proxy.fetch);
  context.cleanup(() => proxy.close());
  return { proxy, mcpUrl: new URL(`${url}/mcp`) };
}

for (const back of BACKENDS) {
  Deno.test(`Proxy over ${back.name}: a v2 client settles on 2026-07-28 through the proxy, which keeps no session for it`, async () => {
    await withBroker(async (context) => {
      const probe = newV2Probe();
      const { backend, sessions } = await back.setup(context, {
        createServer: (serverContext) => createV2TestServer(probe, serverContext),
      });
      const { proxy, mcpUrl } = await proxyTo(context, backend);
      const client = createV2TestClient();
      await client.connect(new StreamableHTTPClientTransport(mcpUrl));
      context.cleanup(() => client.close());
      assert.equal(client.getNegotiatedProtocolVersion(), "2026-07-28");
      const progress: number[] = [];
      const result = await client.callTool({ name: "progress", arguments: { steps: 3 } }, {
        onprogress: ({ progress: step }) => void progress.push(step),
      });
      assert.equal(textOf(result), "3 steps");
      assert.deepEqual(progress, [1, 2, 3].slice(0, progress.length));
      const confirmed = await client.callTool({ name: "confirm", arguments: { action: "ship" } });
      assert.equal(textOf(confirmed), "ship confirmed");
      assert.equal(proxy.sessionCount, 0);
      assert.equal(sessions(), 0);
    });
  });

  Deno.test(`Proxy over ${back.name}: a v1 client keeps its 2025 session on the same proxy meanwhile`, async () => {
    await withBroker(async (context) => {
      const { backend } = await back.setup(context, {
        createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
      });
      const { proxy, mcpUrl } = await proxyTo(context, backend);
      const modern = createV2TestClient();
      await modern.connect(new StreamableHTTPClientTransport(mcpUrl));
      context.cleanup(() => modern.close());
      const legacy = createTestClient();
      await legacy.connect(new StreamableHTTPClientTransportV1(mcpUrl));
      context.cleanup(() => legacy.close());
      assert.equal(proxy.sessionCount, 1);
      const [a, b] = await Promise.all([
        modern.callTool({ name: "echo", arguments: { text: "modern" } }),
        legacy.callTool({ name: "echo", arguments: { text: "legacy" } }),
      ]);
      assert.deepEqual([textOf(a), textOf(b)], ["modern", "legacy"]);
    });
  });
}

Deno.test("Proxy over SQS: cancelling a 2026-07-28 call aborts the tool behind the proxy", async () => {
  await withBroker(async (context) => {
    const probe = newV2Probe();
    const { backend } = await BACKENDS[0].setup(context, {
      createServer: (serverContext) => createV2TestServer(probe, serverContext),
    });
    const { mcpUrl } = await proxyTo(context, backend);
    const client = createV2TestClient();
    await client.connect(new StreamableHTTPClientTransport(mcpUrl));
    context.cleanup(() => client.close());
    const abort = new AbortController();
    const call = client.callTool({ name: "wait_for_cancel", arguments: { id: "p1" } }, {
      signal: abort.signal,
    });
    await waitFor(() => probe.started.includes("p1"));
    abort.abort("enough");
    await assert.rejects(call);
    await waitFor(() => probe.aborted.includes("p1"));
  });
});

Deno.test("Proxy over SQS: closing the proxy answers a 2026-07-28 call in flight with an error and stops its tool", async () => {
  await withBroker(async (context) => {
    const probe = newV2Probe();
    const { backend } = await BACKENDS[0].setup(context, {
      createServer: (serverContext) => createV2TestServer(probe, serverContext),
    });
    const { proxy, mcpUrl } = await proxyTo(context, backend);
    const client = createV2TestClient();
    await client.connect(new StreamableHTTPClientTransport(mcpUrl));
    context.cleanup(() => client.close());
    const call = client.callTool({ name: "wait_for_cancel", arguments: { id: "p2" } })
      .catch((error: Error) => error);
    await waitFor(() => probe.started.includes("p2"));
    await proxy.close();
    const outcome = await call;
    assert.ok(outcome instanceof Error, "the call was answered after the proxy closed");
    assert.match(outcome.message, /proxy is closing/);
    await waitFor(() => probe.aborted.includes("p2"));
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("Condition not met within 5000 ms");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("Proxy: a 2026-07-28 request is refused as strictly as a session's (bearer token 401, foreign Host 403)", async () => {
  await withBroker(async (context) => {
    const { backend } = await BACKENDS[0].setup(context, {
      createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
    });
    const token = "a-long-random-token-for-tests";
    const proxy = new StreamableHttpProxy({
      backend,
      bearerToken: token,
      logger: recordingLogger(),
    });
    const { url } = await serveOnLoopback(context.cleanup, proxy.fetch);
    context.cleanup(() => proxy.close());
    const discover = {
      jsonrpc: "2.0",
      id: 1,
      method: "server/discover",
      params: {
        _meta: {
          "io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
          "io.modelcontextprotocol/clientCapabilities": {},
        },
      },
    };
    const headers = {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": "2026-07-28",
      "Mcp-Method": "server/discover",
    };
    const anonymous = await fetch(`${url}/mcp`, {
      method: "POST",
      headers,
      body: JSON.stringify(discover),
    });
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
    const foreign = await proxy.fetch(
      new Request("http://evil.example:3000/mcp", {
        method: "POST",
        headers: { ...headers, Host: "evil.example:3000", Authorization: `Bearer ${token}` },
        body: JSON.stringify(discover),
      }),
    );
    assert.equal(foreign.status, 403);
    await foreign.body?.cancel();
    const client = createV2TestClient();
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
    context.cleanup(() => client.close());
    assert.equal(client.getNegotiatedProtocolVersion(), "2026-07-28");
  });
});

import assert from "node:assert/strict";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StreamableHttpProxy } from "../proxy/http_proxy.ts";
import { StreamableHTTPClientTransport as StreamableHTTPClientTransportV1 } from "../sdk.ts";
import type { SessionOptions } from "../session/session_host.ts";
import type { Transport } from "../sdk.ts";
import { StreamableHttpWebhookClientTransport } from "../transports/streamable_http_webhook/streamable_http_webhook_client_transport.ts";
import { StreamableHttpWebhookServer } from "../transports/streamable_http_webhook/streamable_http_webhook_server.ts";
import { WebhookClientTransport } from "../transports/webhook/webhook_client_transport.ts";
import { ERA_HARNESSES } from "./_eras_harness.ts";
import {
  type BrokerContext,
  createTestClient,
  eventually,
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
    await eventually(() => probe.started.includes("p1"));
    abort.abort("enough");
    await assert.rejects(call);
    await eventually(() => probe.aborted.includes("p1"));
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
    await eventually(() => probe.started.includes("p2"));
    await proxy.close();
    const outcome = await call;
    assert.ok(outcome instanceof Error, "the call was answered after the proxy closed");
    assert.match(outcome.message, /proxy is closing/);
    await eventually(() => probe.aborted.includes("p2"));
  });
});

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

/** A raw 2026-07-28 POST to the proxy's MCP endpoint, with the standard headers given. */
function modernPost(
  url: string,
  body: { id: number; method: string; params?: Record<string, unknown> },
  headers: Record<string, string>,
  revision = "2026-07-28",
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    // A request left hanging fails the test instead of stalling it.
    signal: AbortSignal.timeout(10_000),
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": revision,
      "Mcp-Method": body.method,
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      ...body,
      params: {
        ...body.params,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": revision,
          "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
          "io.modelcontextprotocol/clientCapabilities": {},
        },
      },
    }),
  });
}

Deno.test("Proxy: a 2026-07-28 request whose Mcp-Name names another target than its body is refused 400 with -32020, tasks methods too", async () => {
  await withBroker(async (context) => {
    const { backend } = await BACKENDS[0].setup(context, {
      createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
    });
    const { mcpUrl } = await proxyTo(context, backend);
    const echo = { name: "echo", arguments: { text: "x" } };
    for (
      const [body, name] of [
        [{ id: 1, method: "tools/call", params: echo }, "other_tool"],
        [{ id: 2, method: "tasks/get", params: { taskId: "task-1" } }, "task-2"],
        [{ id: 3, method: "tools/call", params: echo }, "=?base64?not base64?="],
      ] as const
    ) {
      const refused = await modernPost(mcpUrl.href, body, { "Mcp-Name": name });
      assert.equal(refused.status, 400, name);
      const answer = await refused.json();
      assert.equal(answer.error.code, -32020, name);
      assert.equal(answer.id, body.id);
    }
    // The same name Base64-encoded, with optional whitespace around it, is the same name.
    const served = await modernPost(mcpUrl.href, { id: 4, method: "tools/call", params: echo }, {
      "Mcp-Name": ` =?base64?${btoa("echo")}?=\t`,
    });
    assert.equal(served.status, 200);
    assert.match(await served.text(), /"text":"x"/);
  });
});

Deno.test("Proxy over SQS: the server's refusals of 2026-07-28 requests get the binding's HTTP status (404 for -32601, 400 for -32021 and -32022), as JSON", async () => {
  await withBroker(async (context) => {
    const { backend } = await BACKENDS[0].setup(context, {
      createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
    });
    const { mcpUrl } = await proxyTo(context, backend);
    const cases = [
      [404, -32601, { id: 1, method: "ping" }, {}, "2026-07-28"],
      // The tool asks the user, and this client declared no elicitation capability.
      [
        400,
        -32021,
        {
          id: 2,
          method: "tools/call",
          params: { name: "confirm", arguments: { action: "ship" } },
        },
        { "Mcp-Name": "confirm" },
        "2026-07-28",
      ],
      [400, -32022, { id: 3, method: "tools/list" }, {}, "2099-01-01"],
    ] as const;
    for (const [status, code, body, headers, revision] of cases) {
      const refused = await modernPost(mcpUrl.href, body, headers, revision);
      assert.equal(refused.status, status, body.method);
      assert.match(refused.headers.get("content-type") ?? "", /application\/json/);
      const answer = await refused.json();
      assert.equal(answer.error.code, code, JSON.stringify(answer));
      assert.equal(answer.id, body.id);
    }
    // An error a tool returns is its result: still on 200.
    const failed = await modernPost(mcpUrl.href, {
      id: 4,
      method: "tools/call",
      params: { name: "fail", arguments: {} },
    }, { "Mcp-Name": "fail" });
    assert.equal(failed.status, 200);
    await failed.body?.cancel();
  });
});

Deno.test("Proxy: a 2026-07-28 request its back end cannot send is answered with an error on its stream, not left hanging", async () => {
  await withBroker(async (context) => {
    // A webhook server that has stopped: its port refuses connections.
    const gone = await serveOnLoopback(context.cleanup, () => new Response(null));
    await gone.shutdown();
    const receiver = await sharedReceiver(context.cleanup);
    const { mcpUrl } = await proxyTo(context, () =>
      new WebhookClientTransport({
        serverUrl: `${gone.url}/mcp/request`,
        receiver,
        logger: recordingLogger(),
      }));
    const answered = await modernPost(mcpUrl.href, { id: 9, method: "tools/list" }, {});
    assert.equal(answered.status, 200);
    const text = await answered.text();
    assert.match(text, /"id":9/);
    assert.match(text, /Cannot reach the server behind the proxy/);
  });
});

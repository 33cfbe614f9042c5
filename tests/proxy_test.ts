import assert from "node:assert/strict";
import { StreamableHttpProxy, type StreamableHttpProxyOptions } from "../proxy/http_proxy.ts";
import { McpError, StreamableHTTPClientTransport } from "../sdk.ts";
import type { ConnectableServer } from "../session/session_host.ts";
import { SqsClientTransport } from "../transports/sqs/sqs_client_transport.ts";
import { StreamableHttpWebhookClientTransport } from "../transports/streamable_http_webhook/streamable_http_webhook_client_transport.ts";
import { WebhookClientTransport } from "../transports/webhook/webhook_client_transport.ts";
import {
  type BrokerContext,
  connectOrClose,
  createTestClient,
  createTestServer,
  eventually,
  newProbe,
  recordingLogger,
  startSqsServer,
  textOf,
  withBroker,
} from "./_fixture.ts";
import { startHybridServer } from "./_streamable_http_webhook_fixture.ts";
import { createTaskTestServer, newTaskContext, taskRunsToCompletion } from "./_task_fixture.ts";
import {
  serveOnLoopback,
  sharedReceiver,
  startWebhookServer,
  withCleanup,
} from "./_webhook_fixture.ts";

/** An SQS server on a request queue, and a proxy whose back ends share one response queue. */
async function proxyToSqs(
  context: BrokerContext,
  options: Partial<StreamableHttpProxyOptions> = {},
  createServer?: () => ConnectableServer,
) {
  const requests = await context.queue("proxy-requests");
  const replies = await context.queue("proxy-replies");
  const { server } = await startSqsServer(
    context,
    requests.url,
    createServer ? { createServer } : {},
  );
  return { server, ...await sqsProxy(context, requests.url, replies.url, options) };
}

/** A proxy whose back ends send to `requestQueueUrl` and share one response queue. */
async function sqsProxy(
  context: BrokerContext,
  requestQueueUrl: string,
  responseQueueUrl: string,
  options: Partial<StreamableHttpProxyOptions>,
) {
  const proxy = new StreamableHttpProxy({
    backend: () =>
      new SqsClientTransport({
        sqs: context.sqs,
        requestQueueUrl,
        responseQueueUrl,
        waitTimeSeconds: 1,
        logger: recordingLogger(),
      }),
    logger: recordingLogger(),
    ...options,
  });
  const { url } = await serveOnLoopback(context.cleanup, proxy.fetch);
  context.cleanup(() => proxy.close());
  return { proxy, url, mcpUrl: new URL(`${url}/mcp`) };
}

async function connectThroughProxy(context: BrokerContext, mcpUrl: URL, name?: string) {
  const client = createTestClient(name);
  await connectOrClose(client, new StreamableHTTPClientTransport(mcpUrl));
  context.cleanup(() => client.close());
  return client;
}

Deno.test("Proxy: a Streamable HTTP client calls a tool on a server behind SQS", async () => {
  await withBroker(async (context) => {
    const { mcpUrl, server } = await proxyToSqs(context);
    const client = await connectThroughProxy(context, mcpUrl);
    assert.equal(client.getServerVersion()?.name, "asyncmcp-test");
    const result = await client.callTool({ name: "echo", arguments: { text: "via the proxy" } });
    assert.equal(textOf(result), "via the proxy");
    assert.equal(server.status.sessions, 1);
  });
});

Deno.test("Proxy: progress and the server's elicitation requests pass through", async () => {
  await withBroker(async (context) => {
    const { mcpUrl } = await proxyToSqs(context);
    const client = await connectThroughProxy(context, mcpUrl);
    const progress: number[] = [];
    const result = await client.callTool(
      { name: "progress", arguments: { steps: 3 } },
      undefined,
      { onprogress: ({ progress: step }) => void progress.push(step) },
    );
    assert.equal(textOf(result), "3 steps");
    // A standard queue may deliver the last notification after the result (README: ordering).
    assert.ok(progress.length >= 1, "no progress notification arrived before the result");
    assert.deepEqual(progress, [1, 2, 3].slice(0, progress.length));
    assert.equal(textOf(await client.callTool({ name: "ask_name", arguments: {} })), "hello Ada");
  });
});

Deno.test("Proxy: ten sessions share one response queue and each gets its own answers", async () => {
  await withBroker(async (context) => {
    const { mcpUrl, server } = await proxyToSqs(context);
    const clients = await Promise.all(
      Array.from({ length: 10 }, (_, i) => connectThroughProxy(context, mcpUrl, `client-${i}`)),
    );
    const answers = await Promise.all(
      clients.map((client, i) => client.callTool({ name: "echo", arguments: { text: `#${i}` } })),
    );
    assert.deepEqual(answers.map(textOf), clients.map((_, i) => `#${i}`));
    assert.equal(server.status.sessions, 10);
  });
});

Deno.test("Proxy: DELETE from the client ends its session and closes its back-end transport", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("proxy-requests");
    const replies = await context.queue("proxy-replies");
    const { server } = await startSqsServer(context, requests.url);
    const closed: string[] = [];
    const proxy = new StreamableHttpProxy({
      backend: () => {
        const back = new SqsClientTransport({
          sqs: context.sqs,
          requestQueueUrl: requests.url,
          responseQueueUrl: replies.url,
          waitTimeSeconds: 1,
          logger: recordingLogger(),
        });
        const close = back.close.bind(back);
        back.close = async () => {
          await close();
          closed.push(back.sessionId!);
        };
        return back;
      },
      logger: recordingLogger(),
    });
    const { url } = await serveOnLoopback(context.cleanup, proxy.fetch);
    context.cleanup(() => proxy.close());
    const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`));
    const client = createTestClient();
    await connectOrClose(client, transport);
    await transport.terminateSession();
    await client.close();
    assert.equal(proxy.sessionCount, 0);
    await eventually(() => closed.length > 0);
    // SQS has no message that ends a session: the server ends it when it idles out.
    assert.match(closed[0], /^[0-9a-f]{32}$/);
    assert.equal(server.status.sessions, 1);
  });
});

Deno.test("Proxy: a back end that stops answering turns the pending request into an error", async () => {
  await withBroker(async (context) => {
    const { mcpUrl, server } = await proxyToSqs(context, { requestTimeoutMs: 500 });
    const client = await connectThroughProxy(context, mcpUrl);
    await server.close();
    await assert.rejects(
      client.callTool({ name: "echo", arguments: { text: "anyone?" } }),
      (error: unknown) => {
        assert.ok(error instanceof McpError);
        assert.match(error.message, /did not answer in 500 ms/);
        return true;
      },
    );
  });
});

Deno.test("Proxy: with a bearer token, a request without it gets 401", async () => {
  await withBroker(async (context) => {
    const token = "a-long-random-token-for-tests";
    const { url, mcpUrl } = await proxyToSqs(context, { bearerToken: token });
    const refused = await fetch(mcpUrl, { method: "POST", body: "{}" });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("www-authenticate") ?? "", /Bearer/);
    assert.match((await refused.json()).error.message, /Authorization: Bearer/);
    const wrong = await fetch(mcpUrl, {
      method: "POST",
      headers: { Authorization: `Bearer ${token.replace(/.$/, "X")}` },
      body: "{}",
    });
    assert.equal(wrong.status, 401, "a wrong token of the right length");
    assert.match((await wrong.json()).error.message, /bearer token is not valid/);
    const client = createTestClient();
    await connectOrClose(
      client,
      new StreamableHTTPClientTransport(mcpUrl, {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
    context.cleanup(() => client.close());
    assert.equal(textOf(await client.callTool({ name: "echo", arguments: { text: "ok" } })), "ok");
    const health = await fetch(`${url}/health`);
    assert.deepEqual(await health.json(), { status: "ok", sessions: 1 });
  });
});

Deno.test("Proxy: CORS answers preflight and exposes the MCP headers to allowed origins", async () => {
  await withBroker(async (context) => {
    const { mcpUrl } = await proxyToSqs(context, { corsOrigins: ["http://localhost:6274"] });
    const preflight = await fetch(mcpUrl, {
      method: "OPTIONS",
      headers: { Origin: "http://localhost:6274" },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "http://localhost:6274");
    assert.match(preflight.headers.get("access-control-expose-headers") ?? "", /Mcp-Session-Id/);
    const other = await fetch(mcpUrl, { method: "OPTIONS", headers: { Origin: "http://evil" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    await other.body?.cancel();
  });
});

Deno.test("Proxy: sessions reach a webhook server through back ends that share one receiver", async () => {
  await withCleanup(async (cleanup) => {
    const { url: serverUrl, server } = await startWebhookServer(cleanup);
    const receiver = await sharedReceiver(cleanup);
    const proxy = new StreamableHttpProxy({
      backend: () => new WebhookClientTransport({ serverUrl, receiver, logger: recordingLogger() }),
      logger: recordingLogger(),
    });
    const { url } = await serveOnLoopback(cleanup, proxy.fetch);
    cleanup(() => proxy.close());
    const clients = await Promise.all(Array.from({ length: 3 }, async (_, i) => {
      const client = createTestClient(`client-${i}`);
      await connectOrClose(client, new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
      cleanup(() => client.close());
      return client;
    }));
    const answers = await Promise.all(
      clients.map((client, i) => client.callTool({ name: "echo", arguments: { text: `w${i}` } })),
    );
    assert.deepEqual(answers.map(textOf), ["w0", "w1", "w2"]);
    assert.equal(server.status.sessions, 3);
    assert.equal(
      textOf(await clients[0].callTool({ name: "ask_name", arguments: {} })),
      "hello Ada",
    );
  });
});

Deno.test("Proxy: sessions reach a StreamableHTTP+Webhook server, webhook tools included", async () => {
  await withCleanup(async (cleanup) => {
    const { url: serverUrl } = await startHybridServer(cleanup);
    const receiver = await sharedReceiver(cleanup);
    const proxy = new StreamableHttpProxy({
      backend: () =>
        new StreamableHttpWebhookClientTransport({
          serverUrl,
          receiver,
          logger: recordingLogger(),
        }),
      logger: recordingLogger(),
    });
    const { url } = await serveOnLoopback(cleanup, proxy.fetch);
    cleanup(() => proxy.close());
    const client = createTestClient();
    await connectOrClose(client, new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
    cleanup(() => client.close());
    assert.equal(textOf(await client.callTool({ name: "echo", arguments: { text: "q" } })), "q");
    const report = await client.callTool({ name: "report", arguments: { topic: "relay" } });
    assert.equal(textOf(report), "report on relay");
    assert.equal(textOf(await client.callTool({ name: "ask_name", arguments: {} })), "hello Ada");
  });
});

Deno.test("Proxy: cancellation reaches the tool behind SQS", async () => {
  await withBroker(async (context) => {
    const probe = newProbe();
    const requests = await context.queue("proxy-requests");
    const replies = await context.queue("proxy-replies");
    await startSqsServer(context, requests.url, {
      createServer: () => createTestServer({ probe }),
    });
    const proxy = new StreamableHttpProxy({
      backend: () =>
        new SqsClientTransport({
          sqs: context.sqs,
          requestQueueUrl: requests.url,
          responseQueueUrl: replies.url,
          waitTimeSeconds: 1,
          logger: recordingLogger(),
        }),
      logger: recordingLogger(),
    });
    const { url } = await serveOnLoopback(context.cleanup, proxy.fetch);
    context.cleanup(() => proxy.close());
    const client = await connectThroughProxy(context, new URL(`${url}/mcp`));
    const controller = new AbortController();
    const call = client.callTool({ name: "wait_for_cancel", arguments: { id: "p1" } }, undefined, {
      signal: controller.signal,
    });
    await eventually(() => probe.started.includes("p1"));
    controller.abort("changed my mind");
    await assert.rejects(call);
    await eventually(() => probe.aborted.includes("p1"));
  });
});

Deno.test("Proxy: a task runs to its result through the proxy", async () => {
  await withBroker(async (context) => {
    const tasks = newTaskContext();
    context.cleanup(() => tasks.done());
    const { mcpUrl } = await proxyToSqs(context, {}, () => createTaskTestServer(tasks));
    const client = await connectThroughProxy(context, mcpUrl);
    await taskRunsToCompletion(client);
  });
});

Deno.test("Proxy: with no server reading the queue, initialize is warned about early and answered with an error naming the queue", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("proxy-nobody");
    const replies = await context.queue("proxy-replies");
    const logger = recordingLogger();
    const { mcpUrl } = await sqsProxy(context, requests.url, replies.url, {
      server: requests.url,
      initializeWarningMs: 100,
      initializeTimeoutMs: 600,
      logger,
    });
    const client = createTestClient();
    const started = performance.now();
    await assert.rejects(
      connectOrClose(client, new StreamableHTTPClientTransport(mcpUrl)),
      (error: unknown) => {
        assert.ok(error instanceof McpError);
        assert.match(error.message, /No answer to initialize in 600 ms/);
        assert.ok(error.message.includes(`is a server reading ${requests.url}?`), error.message);
        return true;
      },
    );
    // The long request timeout (5 minutes) is not what answered.
    assert.ok(performance.now() - started < 5000);
    const warning = logger.events.find((event) => event.event === "proxy.initialize_unanswered");
    assert.equal(warning?.level, "warn");
    assert.equal(warning?.fields.server, requests.url);
    assert.match(String(warning?.fields.hint), /is a server reading/);
  });
});

Deno.test("Proxy: the initialize timeout does not cut a slow tool call short", async () => {
  await withBroker(async (context) => {
    const { mcpUrl } = await proxyToSqs(
      context,
      { initializeTimeoutMs: 300 },
      () =>
        createTestServer({
          work: async () => {
            await new Promise((resolve) => setTimeout(resolve, 700));
            return "slow but fine";
          },
        }),
    );
    const client = await connectThroughProxy(context, mcpUrl);
    assert.equal(textOf(await client.callTool({ name: "work", arguments: {} })), "slow but fine");
  });
});

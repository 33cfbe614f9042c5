import assert from "node:assert/strict";
import { StreamableHttpProxy } from "../proxy/http_proxy.ts";
import { InMemoryTransport, StreamableHTTPClientTransport } from "../sdk.ts";
import { bearerTokenAuth } from "../transports/http/authorization.ts";
import { StreamableHttpWebhookClientTransport } from "../transports/streamable_http_webhook/streamable_http_webhook_client_transport.ts";
import { webhookUrlPolicy } from "../transports/webhook/webhook_address_policy.ts";
import { WebhookClientTransport } from "../transports/webhook/webhook_client_transport.ts";
import type { WebhookDeliveryFailure } from "../transports/webhook/webhook_outbox.ts";
import { WebhookReceiver } from "../transports/webhook/webhook_receiver.ts";
import { createTestClient, eventually, recordingLogger } from "./_fixture.ts";
import { mcpHeaders, startHybridServer } from "./_streamable_http_webhook_fixture.ts";
import {
  initializeRequest,
  serveOnLoopback,
  startWebhookServer,
  withCleanup,
} from "./_webhook_fixture.ts";

const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdef00";
const tokens = { [ALICE]: "alice", [BOB]: "bob" };
const json = { "Content-Type": "application/json" };
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** A server that records every request it gets and answers 204. */
async function recordingServer(cleanup: (fn: () => void | Promise<void>) => void) {
  const seen: Request[] = [];
  const { url } = await serveOnLoopback(cleanup, (request) => {
    seen.push(request);
    return new Response(null, { status: 204 });
  });
  return { url, seen };
}

/** A server that answers every request with 307 to `location`. */
async function redirectingServer(
  cleanup: (fn: () => void | Promise<void>) => void,
  location: string,
) {
  const { url } = await serveOnLoopback(cleanup, async (request) => {
    await request.body?.cancel();
    return new Response(null, { status: 307, headers: { Location: location } });
  });
  return url;
}

Deno.test("bearerTokenAuth() lets each token in as its own principal", async () => {
  const authorize = bearerTokenAuth(tokens);
  const request = (token: string) => new Request("http://127.0.0.1/", { headers: bearer(token) });
  assert.deepEqual(await authorize(request(ALICE)), { id: "alice" });
  assert.deepEqual(await authorize(request(BOB)), { id: "bob" });
});

Deno.test("bearerTokenAuth() refuses a wrong token of the right length with 401 and a Bearer challenge", async () => {
  const authorize = bearerTokenAuth(ALICE);
  const wrong = ALICE.slice(0, -1) + (ALICE.endsWith("f") ? "e" : "f");
  assert.equal(wrong.length, ALICE.length);
  const refused = await authorize(new Request("http://127.0.0.1/", { headers: bearer(wrong) }));
  assert.ok(refused instanceof Response);
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get("www-authenticate") ?? "", /^Bearer realm=/);
  assert.match((await refused.json()).error.message, /bearer token is not valid/);
});

Deno.test("bearerTokenAuth() refuses a request without a token, or with another scheme, with 401", async () => {
  const authorize = bearerTokenAuth(ALICE);
  const attempts: Record<string, string>[] = [{}, { Authorization: `Basic ${btoa(ALICE)}` }];
  for (const headers of attempts) {
    const refused = await authorize(new Request("http://127.0.0.1/", { headers }));
    assert.ok(refused instanceof Response);
    assert.equal(refused.status, 401);
    assert.match((await refused.json()).error.message, /send Authorization: Bearer/);
  }
});

Deno.test("bearerTokenAuth() refuses tokens shorter than 16 characters when it is built", () => {
  assert.throws(() => bearerTokenAuth("short"), RangeError);
  assert.throws(() => bearerTokenAuth({}), RangeError);
});

Deno.test("WebhookServer: a request its authorize hook refuses gets that refusal and starts nothing", async () => {
  await withCleanup(async (cleanup) => {
    const { url, server } = await startWebhookServer(cleanup, {
      authorize: bearerTokenAuth(tokens),
    });
    const refused = await fetch(url, {
      method: "POST",
      headers: json,
      body: JSON.stringify(initializeRequest({ webhookUrl: "http://127.0.0.1:9/hook" })),
    });
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    assert.equal(server.status.sessions, 0);
  });
});

Deno.test("WebhookServer: a session refuses every principal but the one that created it", async () => {
  await withCleanup(async (cleanup) => {
    const { url, server } = await startWebhookServer(cleanup, {
      authorize: bearerTokenAuth(tokens),
    });
    const sink = await recordingServer(cleanup);
    const opened = await fetch(url, {
      method: "POST",
      headers: { ...json, ...bearer(ALICE), "X-Client-ID": "c1" },
      body: JSON.stringify(initializeRequest({ webhookUrl: `${sink.url}/hook` })),
    });
    assert.equal(opened.status, 200);
    await opened.body?.cancel();
    const sessionId = opened.headers.get("X-Session-ID")!;
    const session = { "X-Session-ID": sessionId, "X-Client-ID": "c1" };
    const post = await fetch(url, {
      method: "POST",
      headers: { ...json, ...bearer(BOB), ...session },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
    });
    assert.equal(post.status, 403);
    assert.match((await post.json()).error.message, /belongs to another principal/);
    const ended = await fetch(url, { method: "DELETE", headers: { ...bearer(BOB), ...session } });
    assert.equal(ended.status, 404);
    await ended.body?.cancel();
    assert.equal(server.status.sessions, 1);
    const own = await fetch(url, {
      method: "POST",
      headers: { ...json, ...bearer(ALICE), ...session },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }),
    });
    assert.equal(own.status, 200);
    await own.body?.cancel();
  });
});

Deno.test("StreamableHttpWebhookServer: a session refuses every principal but the one that created it", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup, { authorize: bearerTokenAuth(tokens) });
    const opened = await fetch(url, {
      method: "POST",
      headers: { ...mcpHeaders(), ...bearer(ALICE) },
      body: JSON.stringify(initializeRequest()),
    });
    assert.equal(opened.status, 200);
    await opened.body?.cancel();
    const sessionId = opened.headers.get("mcp-session-id")!;
    for (const method of ["POST", "GET", "DELETE"]) {
      const response = await fetch(url, {
        method,
        headers: { ...mcpHeaders(sessionId), ...bearer(BOB) },
        body: method === "POST" ? JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }) : null,
      });
      assert.equal(response.status, 403, method);
      assert.match((await response.json()).error.message, /belongs to another principal/);
    }
    const anonymous = await fetch(url, {
      method: "POST",
      headers: mcpHeaders(sessionId),
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }),
    });
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
  });
});

for (
  const host of [
    "evil.example",
    "localhost.evil.example",
    "evil-localhost",
    "127.0.0.1.nip.io",
    "127.0.0.10",
    "xlocalhost",
  ]
) {
  Deno.test(`WebhookServer: a request whose Host is ${host} gets 403 (DNS rebinding)`, async () => {
    await withCleanup(async (cleanup) => {
      const { server } = await startWebhookServer(cleanup);
      const response = await server.fetch(
        new Request(`http://${host}:8000/mcp/request`, {
          method: "POST",
          headers: { ...json, Host: `${host}:8000` },
          body: JSON.stringify(initializeRequest({ webhookUrl: "http://127.0.0.1:9/hook" })),
        }),
      );
      assert.equal(response.status, 403);
      assert.match((await response.json()).error.message, /Host .* is not allowed/);
      assert.equal(server.status.sessions, 0);
    });
  });
}

Deno.test("WebhookServer: a browser Origin that is not a served host gets 403", async () => {
  await withCleanup(async (cleanup) => {
    const { server } = await startWebhookServer(cleanup);
    const response = await server.fetch(
      new Request("http://127.0.0.1:8000/mcp/request", {
        method: "POST",
        headers: { ...json, Host: "127.0.0.1:8000", Origin: "http://localhost.evil.example" },
        body: "{}",
      }),
    );
    assert.equal(response.status, 403);
    assert.match((await response.json()).error.message, /Origin .* is not allowed/);
  });
});

Deno.test("WebhookServer: a server deployed under its own name serves it once listed in allowedHosts", async () => {
  await withCleanup(async (cleanup) => {
    const { server } = await startWebhookServer(cleanup, { allowedHosts: ["mcp.example.com"] });
    const response = await server.fetch(
      new Request("https://mcp.example.com/mcp/request", {
        method: "DELETE",
        headers: { Host: "mcp.example.com", "X-Session-ID": "unknown" },
      }),
    );
    assert.equal(response.status, 404);
    await response.body?.cancel();
  });
});

Deno.test("WebhookClientTransport does not follow a redirect: the initialize and its secret stay put", async () => {
  await withCleanup(async (cleanup) => {
    const elsewhere = await recordingServer(cleanup);
    const serverUrl = await redirectingServer(cleanup, `${elsewhere.url}/mcp/request`);
    const client = createTestClient();
    const transport = new WebhookClientTransport({
      serverUrl,
      listen: true,
      perSessionSecret: true,
      logger: recordingLogger(),
    });
    await assert.rejects(client.connect(transport), /does not follow redirects/);
    await client.close();
    assert.equal(elsewhere.seen.length, 0);
  });
});

Deno.test("StreamableHttpWebhookClientTransport does not follow a redirect", async () => {
  await withCleanup(async (cleanup) => {
    const elsewhere = await recordingServer(cleanup);
    const serverUrl = await redirectingServer(cleanup, `${elsewhere.url}/mcp`);
    const client = createTestClient();
    const transport = new StreamableHttpWebhookClientTransport({
      serverUrl,
      listen: true,
      perSessionSecret: true,
      logger: recordingLogger(),
    });
    await assert.rejects(client.connect(transport), /does not follow redirects/);
    await client.close();
    assert.equal(elsewhere.seen.length, 0);
  });
});

/** `fetch` with every request but POST answered 307 to `location`. */
function redirectingAllButPost(
  fetch: (request: Request) => Response | Promise<Response>,
  location: string,
): (request: Request) => Response | Promise<Response> {
  return (request) =>
    request.method === "POST"
      ? fetch(request)
      : new Response(null, { status: 307, headers: { Location: location } });
}

Deno.test("WebhookClientTransport's closing DELETE does not follow a redirect", async () => {
  await withCleanup(async (cleanup) => {
    const elsewhere = await recordingServer(cleanup);
    const { server } = await startWebhookServer(cleanup);
    const { url } = await serveOnLoopback(
      cleanup,
      redirectingAllButPost(server.fetch, `${elsewhere.url}/mcp/request`),
    );
    const logger = recordingLogger();
    const client = createTestClient();
    const transport = new WebhookClientTransport({
      serverUrl: `${url}/mcp/request`,
      listen: true,
      logger,
    });
    await client.connect(transport);
    assert.deepEqual(await client.ping(), {});
    await client.close();
    assert.equal(elsewhere.seen.length, 0);
    assert.ok(
      logger.events.some((event) => /does not follow redirects/.test(String(event.fields.error))),
      JSON.stringify(logger.events),
    );
  });
});

Deno.test("StreamableHttpWebhookClientTransport's GET stream and closing DELETE do not follow a redirect", async () => {
  await withCleanup(async (cleanup) => {
    const elsewhere = await recordingServer(cleanup);
    const { server } = await startHybridServer(cleanup);
    const { url } = await serveOnLoopback(
      cleanup,
      redirectingAllButPost(server.fetch, `${elsewhere.url}/mcp`),
    );
    const logger = recordingLogger();
    const client = createTestClient();
    const errors: Error[] = [];
    client.onerror = (error) => void errors.push(error);
    const transport = new StreamableHttpWebhookClientTransport({
      serverUrl: `${url}/mcp`,
      listen: true,
      logger,
    });
    await client.connect(transport);
    assert.deepEqual(await client.ping(), {});
    // The SDK opens its GET stream once initialized: refused, not followed.
    await eventually(() => errors.some((error) => /does not follow redirects/.test(error.message)));
    await client.close();
    assert.equal(elsewhere.seen.length, 0);
    const ended = logger.events.find((event) => event.event === "session.end_failed");
    assert.match(String(ended?.fields.error), /does not follow redirects/);
  });
});

Deno.test("WebhookServer delivers to the address its policy checked, without resolving the name again", async () => {
  await withCleanup(async (cleanup) => {
    const resolved: string[] = [];
    const { url } = await startWebhookServer(cleanup, {
      // `hook.test` resolves nowhere on this machine: only a pinned delivery can arrive.
      addressPolicy: webhookUrlPolicy({
        resolve: (name) => {
          resolved.push(name);
          return Promise.resolve(["127.0.0.1"]);
        },
        allowAddress: (ip) => ip === "127.0.0.1",
      }),
    });
    const receiver = new WebhookReceiver({ logger: recordingLogger() });
    const receiverUrl = new URL(await receiver.listen());
    cleanup(() => receiver.close());
    const client = createTestClient();
    const transport = new WebhookClientTransport({
      serverUrl: url,
      receiver,
      webhookUrl: `http://hook.test:${receiverUrl.port}/webhook`,
      logger: recordingLogger(),
    });
    await client.connect(transport);
    cleanup(() => client.close());
    assert.deepEqual(await client.ping(), {});
    assert.ok(resolved.every((name) => name === "hook.test") && resolved.length >= 1);
  });
});

Deno.test("WebhookServer does not deliver to a webhook whose name resolves elsewhere after the session's check", async () => {
  await withCleanup(async (cleanup) => {
    const answers = [["127.0.0.1"], ["127.0.0.2"]];
    const failures: WebhookDeliveryFailure[] = [];
    const sink = await recordingServer(cleanup);
    const { url } = await startWebhookServer(cleanup, {
      addressPolicy: webhookUrlPolicy({
        resolve: () => Promise.resolve(answers.shift() ?? ["127.0.0.2"]),
        allowAddress: (ip) => ip === "127.0.0.1",
      }),
      onDeliveryFailure: (failure) => void failures.push(failure),
    });
    const port = new URL(sink.url).port;
    const opened = await fetch(url, {
      method: "POST",
      headers: json,
      body: JSON.stringify(initializeRequest({ webhookUrl: `http://rebind.test:${port}/hook` })),
    });
    assert.equal(opened.status, 200);
    await opened.body?.cancel();
    await eventually(() => failures.length >= 1);
    assert.match(failures[0].refused ?? "", /127\.0\.0\.2 is a loopback address/);
    assert.equal(sink.seen.length, 0);
  });
});

Deno.test("the proxy answers a request its silent back end never answers with -32000", async () => {
  await withCleanup(async (cleanup) => {
    const proxy = new StreamableHttpProxy({
      // A back end that takes every message and never answers.
      backend: () => InMemoryTransport.createLinkedPair()[0],
      initializeTimeoutMs: 200,
      logger: recordingLogger(),
    });
    const { url } = await serveOnLoopback(cleanup, proxy.fetch);
    cleanup(() => proxy.close());
    const client = createTestClient();
    const connecting = client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
    await assert.rejects(connecting, (error: { code?: number; message: string }) => {
      assert.equal(error.code, -32000);
      assert.match(error.message, /No answer to initialize in 200 ms/);
      return true;
    });
    await client.close();
  });
});

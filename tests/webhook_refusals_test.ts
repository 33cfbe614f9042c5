import assert from "node:assert/strict";
import { WebhookServer } from "../transports/webhook/webhook_server.ts";
import { createTestServer, eventually, recordingLogger } from "./_fixture.ts";
import {
  type Cleanup,
  initializeRequest,
  serveOnLoopback,
  startWebhookServer,
  withCleanup,
} from "./_webhook_fixture.ts";

const json = { "Content-Type": "application/json" };

function initialize(webhookUrl?: string, extraMeta: Record<string, unknown> = {}) {
  return initializeRequest({ ...(webhookUrl ? { webhookUrl } : {}), ...extraMeta });
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = json,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

function errorOf(body: Record<string, unknown>): { code: number; message: string } {
  assert.equal(body.jsonrpc, "2.0");
  return body.error as { code: number; message: string };
}

/** A receiver on loopback that records what the server delivers and accepts it. */
async function captureReceiver(cleanup: Cleanup) {
  const deliveries: Array<{ headers: Headers; body: Record<string, unknown> }> = [];
  const { url } = await serveOnLoopback(cleanup, async (request) => {
    deliveries.push({ headers: request.headers, body: await request.json() });
    return new Response(null, { status: 204 });
  });
  return { url: `${url}/hook`, deliveries };
}

/** Opens a session by hand and returns its id. */
async function openSession(serverUrl: string, webhookUrl: string): Promise<string> {
  const answer = await post(serverUrl, initialize(webhookUrl));
  assert.equal(answer.status, 200);
  return answer.headers.get("X-Session-ID")!;
}

Deno.test("Webhook server: a GET is refused with 405 and the allowed methods", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const response = await fetch(url);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("Allow"), "POST, DELETE");
    assert.match(errorOf(await response.json()).message, /POST a JSON-RPC message/);
  });
});

Deno.test("Webhook server: a body that is not application/json is refused with 415", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const answer = await post(url, initialize(), { "Content-Type": "text/plain" });
    assert.equal(answer.status, 415);
    assert.match(errorOf(answer.body).message, /application\/json/);
  });
});

Deno.test("Webhook server: a body over maxBodyBytes is refused with 413", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup, { maxBodyBytes: 1024 });
    const answer = await post(url, { ...initialize(), padding: "x".repeat(2048) });
    assert.equal(answer.status, 413);
    assert.match(errorOf(answer.body).message, /limit is 1024 bytes/);
  });
});

Deno.test("Webhook server: a streamed body without a length is cut off at maxBodyBytes", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup, { maxBodyBytes: 1024 });
    const chunk = new TextEncoder().encode("x".repeat(512));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await fetch(url, { method: "POST", headers: json, body });
    assert.equal(response.status, 413);
    await response.body?.cancel();
  });
});

Deno.test("Webhook server: a body that is not JSON gets 400 with a parse error", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const answer = await post(url, "{not json");
    assert.equal(answer.status, 400);
    assert.equal(errorOf(answer.body).code, -32700);
  });
});

Deno.test("Webhook server: JSON that is not a JSON-RPC message gets 400 with an invalid request error", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const answer = await post(url, { jsonrpc: "1.0", id: 4, method: "ping" });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.id, 4);
    assert.equal(errorOf(answer.body).code, -32600);
  });
});

Deno.test("Webhook server: a batch gets 400 saying batches are not supported", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const answer = await post(url, [{ jsonrpc: "2.0", id: 1, method: "ping" }]);
    assert.equal(answer.status, 400);
    assert.match(errorOf(answer.body).message, /batches are not supported/);
  });
});

Deno.test("Webhook server: a request for an unknown session gets 404 with -32001", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const answer = await post(url, { jsonrpc: "2.0", id: 9, method: "ping" }, {
      ...json,
      "X-Session-ID": "0123456789abcdef0123456789abcdef",
    });
    assert.equal(answer.status, 404);
    assert.equal(answer.body.id, 9);
    assert.equal(errorOf(answer.body).code, -32001);
  });
});

Deno.test("Webhook server: the standard Mcp-Session-Id header names the session too", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const receiver = await captureReceiver(cleanup);
    const sessionId = await openSession(url, receiver.url);
    const answer = await post(url, { jsonrpc: "2.0", id: 1, method: "ping" }, {
      ...json,
      "Mcp-Session-Id": sessionId,
    });
    assert.deepEqual(answer.body, { status: "received" });
    await eventually(() => receiver.deliveries.some((delivery) => delivery.body.id === 1));
  });
});

Deno.test("Webhook server: a message without a session that is not initialize gets 400", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const answer = await post(url, { jsonrpc: "2.0", id: 2, method: "tools/list" });
    assert.equal(answer.status, 400);
    assert.match(errorOf(answer.body).message, /no session id/);
  });
});

Deno.test("Webhook server: an unsupported protocol version gets 400 naming the supported ones", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const receiver = await captureReceiver(cleanup);
    const sessionId = await openSession(url, receiver.url);
    const answer = await post(url, { jsonrpc: "2.0", id: 3, method: "ping" }, {
      ...json,
      "X-Session-ID": sessionId,
      "MCP-Protocol-Version": "1999-01-01",
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.id, 3);
    assert.match(
      errorOf(answer.body).message,
      /Unsupported protocol version 1999-01-01: use one of/,
    );
  });
});

Deno.test("Webhook server: initialize without a webhookUrl gets 400 saying where it goes", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const answer = await post(url, initialize());
    assert.equal(answer.status, 400);
    assert.equal(answer.body.id, 0);
    assert.match(errorOf(answer.body).message, /params\._meta\.webhookUrl/);
  });
});

for (
  const [address, why] of [
    ["http://169.254.169.254/latest/meta-data/", /169\.254\.169\.254 is a link-local address/],
    ["http://localhost:8080/hook", /localhost names this machine/],
    ["file:///etc/passwd", /scheme is file, not http or https/],
    ["http://10.1.2.3/hook", /10\.1\.2\.3 is a private address/],
    ["http://127.0.0.1:9/hook", /127\.0\.0\.1 is a loopback address/],
  ] as const
) {
  Deno.test(`Webhook server: the default policy refuses ${address} with 400 and the reason`, async () => {
    await withCleanup(async (cleanup) => {
      const { url, server } = await startWebhookServer(cleanup, {
        addressPolicy: undefined,
      });
      const answer = await post(url, initialize(address));
      assert.equal(answer.status, 400);
      const error = errorOf(answer.body);
      assert.equal(error.code, -32602);
      assert.match(error.message, why);
      assert.equal(server.status.sessions, 0);
    });
  });
}

Deno.test("Webhook server: an unusable per-session webhookSecret gets 400 before any session exists", async () => {
  await withCleanup(async (cleanup) => {
    const { url, server } = await startWebhookServer(cleanup);
    const receiver = await captureReceiver(cleanup);
    const answer = await post(url, initialize(receiver.url, { webhookSecret: "whsec_%%%" }));
    assert.equal(answer.status, 400);
    assert.match(errorOf(answer.body).message, /webhookSecret is unusable/);
    assert.equal(server.status.sessions, 0);
  });
});

Deno.test("Webhook server: DELETE without a session header gets 400", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const response = await fetch(url, { method: "DELETE" });
    assert.equal(response.status, 400);
    assert.match(errorOf(await response.json()).message, /X-Session-ID/);
  });
});

Deno.test("Webhook server: DELETE of an unknown session gets 404", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const response = await fetch(url, { method: "DELETE", headers: { "X-Session-ID": "nope" } });
    assert.equal(response.status, 404);
    assert.equal(errorOf(await response.json()).code, -32001);
  });
});

Deno.test("Webhook server: DELETE ends the session and its next message gets 404", async () => {
  await withCleanup(async (cleanup) => {
    const { url, server } = await startWebhookServer(cleanup);
    const receiver = await captureReceiver(cleanup);
    const sessionId = await openSession(url, receiver.url);
    const response = await fetch(url, { method: "DELETE", headers: { "X-Session-ID": sessionId } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: "terminated" });
    assert.equal(server.status.sessions, 0);
    const answer = await post(url, { jsonrpc: "2.0", id: 1, method: "ping" }, {
      ...json,
      "X-Session-ID": sessionId,
    });
    assert.equal(answer.status, 404);
  });
});

Deno.test("Webhook server: DELETE from another client id leaves the session alone", async () => {
  await withCleanup(async (cleanup) => {
    const { url, server } = await startWebhookServer(cleanup);
    const receiver = await captureReceiver(cleanup);
    const answer = await post(url, initialize(receiver.url), { ...json, "X-Client-ID": "owner" });
    const sessionId = answer.headers.get("X-Session-ID")!;
    const response = await fetch(url, {
      method: "DELETE",
      headers: { "X-Session-ID": sessionId, "X-Client-ID": "intruder" },
    });
    assert.equal(response.status, 404);
    await response.body?.cancel();
    assert.equal(server.status.sessions, 1);
  });
});

Deno.test("Webhook server: DELETE without a client id leaves a session bound to one alone", async () => {
  await withCleanup(async (cleanup) => {
    const { url, server } = await startWebhookServer(cleanup);
    const receiver = await captureReceiver(cleanup);
    const answer = await post(url, initialize(receiver.url), { ...json, "X-Client-ID": "owner" });
    const response = await fetch(url, {
      method: "DELETE",
      headers: { "X-Session-ID": answer.headers.get("X-Session-ID")! },
    });
    assert.equal(response.status, 404);
    await response.body?.cancel();
    assert.equal(server.status.sessions, 1);
  });
});

Deno.test("Webhook server: a message without a client id in a session bound to one gets 400", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const receiver = await captureReceiver(cleanup);
    const opened = await post(url, initialize(receiver.url), { ...json, "X-Client-ID": "owner" });
    const answer = await post(url, { jsonrpc: "2.0", id: 1, method: "ping" }, {
      ...json,
      "X-Session-ID": opened.headers.get("X-Session-ID")!,
    });
    assert.equal(answer.status, 400);
    assert.match(errorOf(answer.body).message, /has no client id but its session is bound to one/);
    assert.equal(receiver.deliveries.length, 1, "only the initialize result was delivered");
  });
});

Deno.test("Webhook server: a message from another client id in a session gets 400", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const receiver = await captureReceiver(cleanup);
    const opened = await post(url, initialize(receiver.url), { ...json, "X-Client-ID": "owner" });
    const answer = await post(url, { jsonrpc: "2.0", id: 1, method: "ping" }, {
      ...json,
      "X-Client-ID": "intruder",
      "X-Session-ID": opened.headers.get("X-Session-ID")!,
    });
    assert.equal(answer.status, 400);
    assert.match(errorOf(answer.body).message, /client id does not match/);
  });
});

Deno.test("Webhook server: requests before start() get 503 with Retry-After", async () => {
  await withCleanup(async (cleanup) => {
    const server = new WebhookServer({
      createServer: () => createTestServer(),
      logger: recordingLogger(),
    });
    const { url } = await serveOnLoopback(cleanup, server.fetch);
    const answer = await post(url, initialize("https://client.example.com/hook"));
    assert.equal(answer.status, 503);
    assert.equal(answer.headers.get("Retry-After"), "1");
    assert.equal(errorOf(answer.body).code, -32000);
  });
});

Deno.test("WebhookServer refuses requests beyond maxInFlightPerSession with 503 while the webhook is down", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup, {
      maxInFlightPerSession: 3,
      initialDelayMs: 5_000,
      closeTimeoutMs: 100,
    });
    // Nothing listens here: answers wait in retries, and their requests stay in flight.
    const deadHook = "http://127.0.0.1:9/webhook";
    const init = await post(url, initialize(deadHook));
    const sessionId = init.headers.get("x-session-id")!;
    const headers = { ...json, "X-Session-ID": sessionId };
    // The initialize counts too: its answer is still waiting for the webhook.
    for (let id = 1; id <= 2; id++) {
      const accepted = await post(url, { jsonrpc: "2.0", id, method: "ping" }, headers);
      assert.equal(accepted.status, 200);
    }
    const refused = await post(url, { jsonrpc: "2.0", id: 3, method: "ping" }, headers);
    assert.equal(refused.status, 503);
    assert.equal(errorOf(refused.body).code, -32000);
    assert.match(errorOf(refused.body).message, /3 requests unanswered or undelivered/);
  });
});

Deno.test("Webhook server: requests the SDK would drop get 400 with -32600 and never fill the session's in-flight limit", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup, { maxInFlightPerSession: 4 });
    const receiver = await captureReceiver(cleanup);
    const sessionId = await openSession(url, receiver.url);
    const headers = { ...json, "X-Session-ID": sessionId };
    const dropped = [
      { jsonrpc: "2.0", id: 1.5, method: "ping" },
      { jsonrpc: "2.0", id: 2 ** 53, method: "ping" }, // not a safe integer
      { jsonrpc: "2.0", id: 7, method: "ping", params: [] },
      { jsonrpc: "2.0", id: 8, method: "ping", extra: true },
    ];
    // Twice the limit of each: held in flight unanswered, they would end in 503 for good.
    for (let round = 0; round < 2; round++) {
      for (const message of dropped) {
        const answer = await post(url, message, headers);
        assert.equal(answer.status, 400, JSON.stringify(message));
        assert.equal(errorOf(answer.body).code, -32600);
      }
    }
    const ping = await post(url, { jsonrpc: "2.0", id: 9, method: "ping" }, headers);
    assert.equal(ping.status, 200);
    await eventually(() => receiver.deliveries.some((delivery) => delivery.body.id === 9));
  });
});

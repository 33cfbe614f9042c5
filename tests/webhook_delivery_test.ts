import assert from "node:assert/strict";
import { McpError } from "../sdk.ts";
import type { JSONRPCMessage } from "../sdk.ts";
import { MemorySessionStore } from "../session/session_store.ts";
import type { WebhookDeliveryFailure } from "../transports/webhook/webhook_outbox.ts";
import { WebhookClientTransport } from "../transports/webhook/webhook_client_transport.ts";
import { WebhookReceiver } from "../transports/webhook/webhook_receiver.ts";
import { signDelivery, WebhookSigningKey } from "../transports/webhook/webhook_signature.ts";
import {
  createTestClient,
  createTestServer,
  eventually,
  recordingLogger,
  textOf,
} from "./_fixture.ts";
import {
  type Cleanup,
  connectWebhookClient,
  serveOnLoopback,
  startWebhookServer,
  withCleanup,
} from "./_webhook_fixture.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const json = { "Content-Type": "application/json" };

/**
 * A gate in front of a client's webhook handler that can be taken down and brought back on the
 * same port. While down it drops every connection at once, and counts them.
 */
function gate(cleanup: Cleanup, handler: (request: Request) => Promise<Response>) {
  let server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  const port = server.addr.port;
  let dropping: { listener: Deno.Listener; done: Promise<void> } | undefined;
  const state = { dropped: 0 };
  const up = async () => {
    if (!dropping) return;
    dropping.listener.close();
    await dropping.done;
    dropping = undefined;
    server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, handler);
  };
  cleanup(async () => {
    await up();
    await server.shutdown();
  });
  return {
    url: `http://127.0.0.1:${port}/hook`,
    state,
    async down() {
      await server.shutdown();
      const listener = Deno.listen({ hostname: "127.0.0.1", port });
      const done = (async () => {
        try {
          for await (const connection of listener) {
            state.dropped++;
            connection.close();
          }
        } catch {
          // The listener was closed while accepting.
        }
      })();
      dropping = { listener, done };
    },
    up,
  };
}

Deno.test("Webhook: the Python asyncmcp client's requests, header for header, get the Python acknowledgements and webhook answers", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const deliveries: Array<{ headers: Headers; body: Record<string, unknown> }> = [];
    const hook = await serveOnLoopback(cleanup, async (request) => {
      deliveries.push({ headers: request.headers, body: await request.json() });
      return Response.json({ status: "success" });
    });
    // As asyncmcp's webhook client sends them: X-Client-ID always, X-Request-ID and X-Method on
    // requests, X-Session-ID once known; webhookUrl in params._meta; pydantic's field order.
    const clientId = "mcp-client-1a2b3c4d";
    const initialize = await fetch(url, {
      method: "POST",
      headers: { ...json, "X-Client-ID": clientId, "X-Request-ID": "0", "X-Method": "initialize" },
      body: JSON.stringify({
        method: "initialize",
        params: {
          _meta: { webhookUrl: `${hook.url}/webhook/response` },
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "mcp", version: "0.1.0" },
        },
        jsonrpc: "2.0",
        id: 0,
      }),
    });
    assert.equal(initialize.status, 200);
    assert.deepEqual(await initialize.json(), { status: "session_created" });
    const sessionId = initialize.headers.get("X-Session-ID")!;
    assert.match(sessionId, /^[0-9a-f]{32}$/);
    await eventually(() => deliveries.length === 1);
    assert.equal(deliveries[0].headers.get("X-Session-ID"), sessionId);
    assert.equal(deliveries[0].headers.get("Content-Type"), "application/json");
    assert.equal(deliveries[0].body.id, 0);
    assert.equal(
      (deliveries[0].body.result as { serverInfo: { name: string } }).serverInfo.name,
      "asyncmcp-test",
    );

    const headers = { ...json, "X-Client-ID": clientId, "X-Session-ID": sessionId };
    const initialized = await fetch(url, {
      method: "POST",
      headers: { ...headers, "X-Method": "notifications/initialized" },
      body: JSON.stringify({ method: "notifications/initialized", jsonrpc: "2.0" }),
    });
    assert.deepEqual(await initialized.json(), { status: "initialized" });
    const call = await fetch(url, {
      method: "POST",
      headers: { ...headers, "X-Request-ID": "1", "X-Method": "tools/call" },
      body: JSON.stringify({
        method: "tools/call",
        params: { name: "echo", arguments: { text: "from python" } },
        jsonrpc: "2.0",
        id: 1,
      }),
    });
    assert.deepEqual(await call.json(), { status: "received" });
    await eventually(() => deliveries.length === 2);
    assert.equal(deliveries[1].body.id, 1);
    assert.equal(textOf(deliveries[1].body.result), "from python");
    assert.equal(deliveries[1].headers.get("X-Client-ID"), clientId);
  });
});

Deno.test("Webhook: with a signing key on both sides, calls work and deliveries are verified", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup, { signingKey: SECRET });
    const { client, transport } = await connectWebhookClient(cleanup, url, {
      signingSecret: SECRET,
    });
    assert.equal(
      textOf(await client.callTool({ name: "echo", arguments: { text: "signed" } })),
      "signed",
    );
    const unsigned = await transport.handleWebhook(
      new Request(transport.webhookUrl!, {
        method: "POST",
        headers: {
          ...json,
          "X-Session-ID": transport.sessionId!,
          "X-Client-ID": transport.clientId,
        },
        body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: {} }),
      }),
    );
    assert.equal(unsigned.status, 401);
  });
});

Deno.test("Webhook: a client whose secret differs from the server's fails to connect at once, naming the signature", async () => {
  await withCleanup(async (cleanup) => {
    const failures: WebhookDeliveryFailure[] = [];
    const { url } = await startWebhookServer(cleanup, {
      signingKey: SECRET,
      onDeliveryFailure: (failure) => void failures.push(failure),
      // The error answer that replaces the refused result finds the client gone: not waited for.
      closeTimeoutMs: 100,
    });
    const client = createTestClient();
    const transport = new WebhookClientTransport({
      serverUrl: url,
      listen: true,
      signingSecret: "another secret of enough bytes",
      logger: recordingLogger(),
    });
    const started = Date.now();
    await assert.rejects(client.connect(transport), /signature does not match/);
    assert.ok(Date.now() - started < 5_000, "it waited for a timeout");
    await client.close();
    await eventually(() => failures.length >= 1);
    assert.equal(failures[0].status, 401, "a refused signature is final, not retried");
    assert.equal(failures[0].attempts, 1);
  });
});

Deno.test("Webhook: a per-session secret signs deliveries and the MCP server never sees it", async () => {
  await withCleanup(async (cleanup) => {
    const store = new MemorySessionStore();
    const { url } = await startWebhookServer(cleanup, { store });
    const { client, transport } = await connectWebhookClient(cleanup, url, {
      perSessionSecret: true,
    });
    assert.deepEqual(await client.ping(), {});
    const record = await store.get(transport.sessionId!);
    assert.match(record?.returnSecret ?? "", /^whsec_/);
    const meta =
      (record!.initialize as { params: { _meta: Record<string, unknown> } }).params._meta;
    assert.equal(meta.webhookSecret, undefined);
    assert.equal(meta.webhookUrl, transport.webhookUrl);
  });
});

Deno.test("Webhook: a receiver with a key refuses unsigned, tampered and stale deliveries with 401", async () => {
  const receiver = new WebhookReceiver({ signingKey: SECRET, logger: recordingLogger() });
  const key = new WebhookSigningKey(SECRET);
  const body = JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: {} });
  const deliver = (headers: Record<string, string>, text = body) =>
    receiver.fetch(
      new Request("http://127.0.0.1/hook", {
        method: "POST",
        headers: { ...json, "X-Session-ID": "s1", ...headers },
        body: text,
      }),
    );
  const reasonOf = async (response: Response) => {
    assert.equal(response.status, 401);
    return (await response.json()).error.message as string;
  };
  assert.match(await reasonOf(await deliver({})), /unsigned|signature/i);
  const signed = { ...(await signDelivery(key, "msg_1", body)) };
  assert.match(
    await reasonOf(await deliver(signed, body.replace("message", "massage"))),
    /signature/i,
  );
  const stale = {
    ...(await signDelivery(key, "msg_2", body, Math.floor(Date.now() / 1000) - 3600)),
  };
  assert.match(await reasonOf(await deliver(stale)), /timestamp/i);
  const first = await deliver(signed);
  assert.equal(first.status, 404, "verified, then refused only because no client is waiting");
  await first.body?.cancel();
  const retry = await deliver(signed);
  assert.equal(retry.status, 404, "a retry of a refused delivery is checked again, not a replay");
  await retry.body?.cancel();
});

Deno.test("Webhook: a delivery replayed after it was taken gets 200 and reaches the client once", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup, { signingKey: SECRET });
    const receiver = new WebhookReceiver({ signingKey: SECRET, logger: recordingLogger() });
    cleanup(() => receiver.close());
    const captured: Request[] = [];
    const hook = await serveOnLoopback(cleanup, (request) => {
      captured.push(request.clone());
      return receiver.fetch(request);
    });
    const { client, transport } = await connectWebhookClient(cleanup, url, {
      receiver,
      webhookUrl: `${hook.url}/webhook`,
    });
    const seen: JSONRPCMessage[] = [];
    const onmessage = transport.onmessage!;
    transport.onmessage = (message, extra) => {
      seen.push(message);
      onmessage(message, extra);
    };
    assert.equal(
      textOf(await client.callTool({ name: "echo", arguments: { text: "once" } })),
      "once",
    );
    const answer = captured.at(-1)!;
    const replay = await fetch(`${hook.url}/webhook`, {
      method: "POST",
      headers: answer.headers,
      body: await answer.text(),
    });
    assert.equal(replay.status, 200);
    assert.deepEqual(await replay.json(), { status: "duplicate" });
    assert.equal(seen.length, 1, "the replay was not passed on");
  });
});

Deno.test("Webhook: deliveries for another session are not passed to the client", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const { client, transport } = await connectWebhookClient(cleanup, url);
    const seen: JSONRPCMessage[] = [];
    const onmessage = transport.onmessage!;
    transport.onmessage = (message, extra) => {
      seen.push(message);
      onmessage(message, extra);
    };
    const stray = JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: {} });
    const mine = await transport.handleWebhook(
      new Request(transport.webhookUrl!, {
        method: "POST",
        headers: { ...json, "X-Client-ID": transport.clientId, "X-Session-ID": "not-mine" },
        body: stray,
      }),
    );
    assert.equal(mine.status, 200);
    await mine.body?.cancel();
    const nobodys = await transport.handleWebhook(
      new Request(transport.webhookUrl!, {
        method: "POST",
        headers: { ...json, "X-Session-ID": "nobodys" },
        body: stray,
      }),
    );
    assert.equal(nobodys.status, 404);
    await nobodys.body?.cancel();
    assert.deepEqual(await client.ping(), {});
    assert.equal(seen.length, 1, "only the ping's answer");
  });
});

Deno.test("Webhook: deliveries made while the receiver is down arrive in order once it is back", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup, { initialDelayMs: 50 });
    const receiver = new WebhookReceiver({ logger: recordingLogger() });
    const hook = gate(cleanup, receiver.fetch);
    const { client } = await connectWebhookClient(cleanup, url, {
      webhookUrl: hook.url,
      receiver,
    });
    await hook.down();
    const progress: number[] = [];
    const call = client.callTool({ name: "progress", arguments: { steps: 4 } }, undefined, {
      onprogress: ({ progress: step }) => void progress.push(step),
    });
    // The first delivery tried again: the later ones wait behind it.
    await eventually(() => hook.state.dropped >= 2);
    assert.deepEqual(progress, []);
    await hook.up();
    assert.equal(textOf(await call), "4 steps");
    assert.deepEqual(progress, [1, 2, 3, 4]);
  });
});

Deno.test("Webhook: a receiver that never comes back gets its result handed to onDeliveryFailure", async () => {
  await withCleanup(async (cleanup) => {
    const failures: WebhookDeliveryFailure[] = [];
    const logger = recordingLogger();
    const { url } = await startWebhookServer(cleanup, {
      initialDelayMs: 20,
      maxAttempts: 3,
      logger,
      onDeliveryFailure: (failure) => void failures.push(failure),
    });
    const receiver = new WebhookReceiver({ logger: recordingLogger() });
    const hook = gate(cleanup, receiver.fetch);
    const { client, transport } = await connectWebhookClient(cleanup, url, {
      webhookUrl: hook.url,
      receiver,
    });
    await hook.down();
    const call = client.callTool({ name: "echo", arguments: { text: "lost?" } }, undefined, {
      timeout: 500,
    });
    await eventually(() => failures.length === 1);
    assert.equal(failures[0].attempts, 3);
    assert.equal(failures[0].envelope.sessionId, transport.sessionId);
    assert.equal(textOf((failures[0].envelope.message as { result: unknown }).result), "lost?");
    const logged = logger.events.find((event) => event.event === "webhook.delivery_failed");
    assert.equal(logged?.fields.sessionId, transport.sessionId);
    assert.ok(logged?.fields.deliveryId);
    await assert.rejects(call, /timed out/i);
    await hook.up();
  });
});

Deno.test("Webhook: closing the client ends its session on the server with DELETE", async () => {
  await withCleanup(async (cleanup) => {
    const { url, server, events } = await startWebhookServer(cleanup);
    const { client } = await connectWebhookClient(cleanup, url);
    assert.equal(server.status.sessions, 1);
    await client.close();
    assert.equal(server.status.sessions, 0);
    assert.ok(events.some((event) => event.event === "session.ended"));
  });
});

Deno.test("Webhook: a request in a session the server ended fails at once with -32001", async () => {
  await withCleanup(async (cleanup) => {
    const { url, server } = await startWebhookServer(cleanup);
    const { client, transport } = await connectWebhookClient(cleanup, url);
    assert.ok(await server.endSession(transport.sessionId!));
    await assert.rejects(client.ping(), (error: unknown) => {
      assert.ok(error instanceof McpError);
      assert.equal(error.code, -32001);
      assert.match(error.message, /Session not found/);
      return true;
    });
  });
});

Deno.test("Webhook: connecting to a server that is not there fails with an error naming its URL", async () => {
  await withCleanup(async (cleanup) => {
    const { url, shutdown } = await serveOnLoopback(cleanup, () => new Response());
    await shutdown();
    await assert.rejects(
      connectWebhookClient(cleanup, `${url}/mcp/request`),
      new RegExp(`Cannot reach MCP server at ${url}/mcp/request`),
    );
  });
});

Deno.test("Webhook: the client's receiver on Deno.serve listens on 127.0.0.1 and stops on close", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    const { client, transport } = await connectWebhookClient(cleanup, url, { listen: true });
    const hook = transport.webhookUrl!;
    assert.match(hook, /^http:\/\/127\.0\.0\.1:\d+\/webhook$/);
    await client.close();
    await assert.rejects(fetch(hook, { method: "POST" }));
  });
});

Deno.test("Webhook: a server that closes tells clients with calls still running to send them again", async () => {
  await withCleanup(async (cleanup) => {
    const { url, server } = await startWebhookServer(cleanup, {
      closeGraceMs: 50,
      createServer: () => createTestServer({ work: () => new Promise(() => {}) }),
    });
    const { client } = await connectWebhookClient(cleanup, url);
    const call = client.callTool({ name: "work", arguments: {} });
    const outcome = call.then(() => undefined, (error: unknown) => error);
    await eventually(() => server.status.inFlightRequests === 1);
    await server.close();
    await assert.rejects(outcome.then((error) => Promise.reject(error)), (error: unknown) => {
      assert.ok(error instanceof McpError);
      assert.equal(error.code, -32000);
      assert.match(error.message, /shutting down: send it again/);
      return true;
    });
  });
});

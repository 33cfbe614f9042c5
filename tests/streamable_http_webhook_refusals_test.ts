import assert from "node:assert/strict";
import { webhookUrlPolicy } from "../transports/webhook/webhook_address_policy.ts";
import {
  initializeRequest,
  mcpHeaders,
  startHybridServer,
} from "./_streamable_http_webhook_fixture.ts";
import { eventually } from "./_fixture.ts";
import { withCleanup } from "./_webhook_fixture.ts";

interface Answer {
  status: number;
  headers: Headers;
  error?: { code: number; message: string };
  text: string;
}

async function send(url: string, init: RequestInit): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let error;
  try {
    error = JSON.parse(text).error;
  } catch {
    error = undefined;
  }
  return { status: response.status, headers: response.headers, error, text };
}

function post(url: string, body: unknown, headers: Record<string, string> = mcpHeaders()) {
  return send(url, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Starts a session over raw HTTP; returns its id. */
async function openSession(url: string, meta: Record<string, unknown> = {}): Promise<string> {
  const answer = await post(url, initializeRequest(meta));
  assert.equal(answer.status, 200, answer.text);
  return answer.headers.get("mcp-session-id")!;
}

Deno.test("StreamableHTTP+Webhook refuses a request for an unknown session with 404 and -32001", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const answer = await post(url, { jsonrpc: "2.0", id: 1, method: "ping" }, mcpHeaders("nope"));
    assert.equal(answer.status, 404);
    assert.equal(answer.error?.code, -32001);
    assert.match(answer.error!.message, /initialize/);
  });
});

Deno.test("StreamableHTTP+Webhook refuses a request without Mcp-Session-Id with 400", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const answer = await post(url, { jsonrpc: "2.0", id: 1, method: "ping" });
    assert.equal(answer.status, 400);
    assert.match(answer.error!.message, /Mcp-Session-Id/);
  });
});

Deno.test("StreamableHTTP+Webhook answers 404 to GET and DELETE for an unknown session", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    for (const method of ["GET", "DELETE"]) {
      const answer = await send(url, { method, headers: mcpHeaders("nope") });
      assert.equal(answer.status, 404, method);
      assert.equal(answer.error?.code, -32001);
    }
  });
});

Deno.test("StreamableHTTP+Webhook ends a session on DELETE and refuses it afterwards with 404", async () => {
  await withCleanup(async (cleanup) => {
    const { url, server } = await startHybridServer(cleanup);
    const sessionId = await openSession(url);
    const deleted = await send(url, { method: "DELETE", headers: mcpHeaders(sessionId) });
    assert.equal(deleted.status, 200);
    assert.equal(server.sessionCount, 0);
    const after = await post(url, { jsonrpc: "2.0", id: 2, method: "ping" }, mcpHeaders(sessionId));
    assert.equal(after.status, 404);
  });
});

Deno.test("StreamableHTTP+Webhook answers 405 with Allow to other methods", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const answer = await send(url, { method: "PUT", body: "{}" });
    assert.equal(answer.status, 405);
    assert.equal(answer.headers.get("allow"), "POST, GET, DELETE");
  });
});

Deno.test("StreamableHTTP+Webhook refuses a foreign Host with 403 (DNS rebinding)", async () => {
  await withCleanup(async (cleanup) => {
    const { server } = await startHybridServer(cleanup);
    // fetch() sets Host itself; the handler is called directly to send a rebound name.
    const response = await server.fetch(
      new Request("http://evil.example:8080/mcp", {
        method: "POST",
        headers: { ...mcpHeaders(), Host: "evil.example:8080" },
        body: JSON.stringify(initializeRequest()),
      }),
    );
    assert.equal(response.status, 403);
    const { error } = await response.json();
    assert.match(error.message, /Host evil\.example:8080 is not allowed/);
  });
});

Deno.test("StreamableHTTP+Webhook refuses a foreign Origin with 403", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const answer = await post(url, initializeRequest(), {
      ...mcpHeaders(),
      Origin: "https://evil.example",
    });
    assert.equal(answer.status, 403);
    assert.match(answer.error!.message, /Origin https:\/\/evil\.example/);
  });
});

Deno.test("StreamableHTTP+Webhook serves any Host when allowedHosts is '*'", async () => {
  await withCleanup(async (cleanup) => {
    const { server } = await startHybridServer(cleanup, { allowedHosts: "*" });
    const response = await server.fetch(
      new Request("http://mcp.example/mcp", {
        method: "POST",
        headers: { ...mcpHeaders(), Host: "mcp.example" },
        body: JSON.stringify(initializeRequest()),
      }),
    );
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.equal(server.sessionCount, 1);
  });
});

for (
  const [what, webhookUrl] of [
    ["a cloud metadata address", "http://169.254.169.254/latest/meta-data"],
    ["localhost", "http://localhost:9/webhook"],
    ["a file: URL", "file:///etc/passwd"],
  ]
) {
  Deno.test(`StreamableHTTP+Webhook refuses a webhook URL at ${what} with 400`, async () => {
    await withCleanup(async (cleanup) => {
      const { url, server } = await startHybridServer(cleanup, {
        addressPolicy: webhookUrlPolicy(),
      });
      const answer = await post(url, initializeRequest({ webhookUrl }));
      assert.equal(answer.status, 400);
      assert.equal(answer.error?.code, -32602);
      assert.match(answer.error!.message, /webhookUrl .* is refused/);
      assert.equal(server.sessionCount, 0);
    });
  });
}

Deno.test("StreamableHTTP+Webhook refuses an unusable per-session secret with 400", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const answer = await post(
      url,
      initializeRequest({ webhookUrl: "http://127.0.0.1:9/webhook", webhookSecret: "whsec_%%" }),
    );
    assert.equal(answer.status, 400);
    assert.match(answer.error!.message, /webhookSecret is unusable/);
  });
});

Deno.test("StreamableHTTP+Webhook refuses a body over maxBodyBytes with 413", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup, { maxBodyBytes: 1024 });
    const answer = await post(url, { ...initializeRequest(), padding: "x".repeat(2048) });
    assert.equal(answer.status, 413);
    assert.match(answer.error!.message, /limit is 1024 bytes/);
  });
});

Deno.test("StreamableHTTP+Webhook refuses a body that is not JSON with 400 and -32700", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const answer = await post(url, "{ not json");
    assert.equal(answer.status, 400);
    assert.equal(answer.error?.code, -32700);
  });
});

Deno.test("StreamableHTTP+Webhook refuses a non-JSON content type with 415", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const answer = await post(url, JSON.stringify(initializeRequest()), {
      ...mcpHeaders(),
      "Content-Type": "text/plain",
    });
    assert.equal(answer.status, 415);
  });
});

Deno.test("StreamableHTTP+Webhook refuses an unsupported MCP-Protocol-Version with 400", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup);
    const sessionId = await openSession(url, { webhookUrl: "http://127.0.0.1:9/webhook" });
    for (const name of ["echo", "report"]) {
      const answer = await post(url, {
        jsonrpc: "2.0",
        id: 3,
        method: "tools/call",
        params: { name, arguments: { text: "x", topic: "x" } },
      }, { ...mcpHeaders(sessionId), "MCP-Protocol-Version": "1999-01-01" });
      assert.equal(answer.status, 400, name);
      assert.match(answer.error!.message, /Unsupported protocol version/);
    }
    await send(url, { method: "DELETE", headers: mcpHeaders(sessionId) });
  });
});

Deno.test("StreamableHTTP+Webhook refuses initialize beyond maxSessions with 503 and a JSON-RPC error", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup, { maxSessions: 1 });
    const first = await openSession(url);
    const answer = await post(url, initializeRequest());
    assert.equal(answer.status, 503);
    assert.equal(answer.error?.code, -32000);
    assert.match(answer.error!.message, /1 sessions are open/);
    await send(url, { method: "DELETE", headers: mcpHeaders(first) });
  });
});

Deno.test("StreamableHTTP+Webhook ends a session idle for idleTimeoutMs", async () => {
  await withCleanup(async (cleanup) => {
    const { url, server } = await startHybridServer(cleanup, { idleTimeoutMs: 50 });
    const sessionId = await openSession(url);
    await eventually(() => server.sessionCount === 0);
    const answer = await post(
      url,
      { jsonrpc: "2.0", id: 1, method: "ping" },
      mcpHeaders(sessionId),
    );
    assert.equal(answer.status, 404);
    assert.equal(server.sessionCount, 0);
  });
});

Deno.test("StreamableHTTP+Webhook answers with one JSON body in JSON response mode", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startHybridServer(cleanup, { enableJsonResponse: true });
    const sessionId = await openSession(url);
    const answer = await post(url, {
      jsonrpc: "2.0",
      id: 4,
      method: "tools/call",
      params: { name: "echo", arguments: { text: "as json" } },
    }, mcpHeaders(sessionId));
    assert.equal(answer.headers.get("content-type"), "application/json");
    assert.match(answer.text, /as json/);
    await send(url, { method: "DELETE", headers: mcpHeaders(sessionId) });
  });
});

Deno.test("StreamableHTTP+Webhook lets a client resume a dropped SSE stream with Last-Event-ID", async () => {
  await withCleanup(async (cleanup) => {
    const { promise: finish, resolve } = Promise.withResolvers<string>();
    const { url } = await startHybridServer(cleanup, { probe: { work: () => finish } });
    // No webhook: `work` answers on the POST's stream, which the client drops early.
    const sessionId = await openSession(url);
    const dropped = new AbortController();
    const call = await fetch(url, {
      method: "POST",
      headers: mcpHeaders(sessionId),
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 5,
        method: "tools/call",
        params: { name: "work", arguments: {} },
      }),
      signal: dropped.signal,
    });
    const reader = call.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!/id: ?\S+/.test(seen)) seen += (await reader.read()).value ?? "";
    const lastEventId = seen.match(/id: ?(\S+)/)![1];
    dropped.abort();
    await reader.cancel().catch(() => {});
    resolve("done while away");
    const resumed = await fetch(url, {
      headers: { ...mcpHeaders(sessionId), "Last-Event-ID": lastEventId },
    });
    assert.equal(resumed.status, 200);
    const resumedReader = resumed.body!.pipeThrough(new TextDecoderStream()).getReader();
    let replay = "";
    while (!/done while away/.test(replay)) replay += (await resumedReader.read()).value ?? "";
    await resumedReader.cancel();
    await send(url, { method: "DELETE", headers: mcpHeaders(sessionId) });
  });
});

Deno.test("StreamableHTTP+Webhook answers 406 to a POST that does not accept an event stream", async () => {
  await withCleanup(async (cleanup) => {
    const { url, server } = await startHybridServer(cleanup);
    const refusedInit = await post(url, initializeRequest(), {
      ...mcpHeaders(),
      Accept: "application/json",
    });
    assert.equal(refusedInit.status, 406);
    assert.equal(server.sessionCount, 0, "no session is kept for a refused initialize");
    const sessionId = await openSession(url, { webhookUrl: "http://127.0.0.1:9/webhook" });
    const refusedCall = await post(url, {
      jsonrpc: "2.0",
      id: 6,
      method: "tools/call",
      params: { name: "report", arguments: { topic: "x" } },
    }, { ...mcpHeaders(sessionId), Accept: "application/json" });
    assert.equal(refusedCall.status, 406);
    assert.match(refusedCall.error!.message, /text\/event-stream/);
    await send(url, { method: "DELETE", headers: mcpHeaders(sessionId) });
  });
});

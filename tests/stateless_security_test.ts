/**
 * A 2026-07-28 request has no session to vouch for it: each one is checked as strictly as the
 * first message of a session (address policy on its own return address, authorize hook,
 * Host/Origin guard), on every transport.
 */

import assert from "node:assert/strict";
import type { AddressPolicy } from "../session/address_policy.ts";
import { bearerTokenAuth } from "../transports/http/authorization.ts";
import { StreamableHttpWebhookServer } from "../transports/streamable_http_webhook/streamable_http_webhook_server.ts";
import { eventually, recordingLogger, startSqsServer, withBroker } from "./_fixture.ts";
import { envelope } from "./_raw_modern_client.ts";
import { messagesOn, pythonAttributes, receiveNone, receiveOne, sendRaw } from "./_raw_sqs.ts";
import { createV2TestServer, newV2Probe } from "./_v2_fixture.ts";
import {
  allowLoopback,
  type Cleanup,
  serveOnLoopback,
  startWebhookServer,
  withCleanup,
} from "./_webhook_fixture.ts";

const TOKEN = "modern-token-0123456789abcdef";
const json = { "Content-Type": "application/json" };

/** A 2026-07-28 tools/list whose answers go to `returnAddress` under `key`. */
function modernList(id: number, key: string, returnAddress: string) {
  return {
    jsonrpc: "2.0",
    id,
    method: "tools/list",
    params: { _meta: { ...envelope(), [key]: returnAddress } },
  };
}

/** A receiver on loopback that records the ids of what is delivered to it. */
async function hook(cleanup: Cleanup) {
  const delivered: unknown[] = [];
  const { url } = await serveOnLoopback(cleanup, async (request) => {
    delivered.push((await request.json()).id);
    return new Response(null, { status: 204 });
  });
  return { url: `${url}/hook`, delivered };
}

/** Refuses `forbidden` with a reason, allows what `allowLoopback` allows. */
function refusing(forbidden: string): AddressPolicy {
  return (address) =>
    address.startsWith(forbidden) ? "that address is off limits" : allowLoopback(address);
}

/** A hybrid server on SDK v2 on loopback, with `options` on top. */
async function hybrid(
  cleanup: Cleanup,
  options: Partial<ConstructorParameters<typeof StreamableHttpWebhookServer>[0]> = {},
) {
  const server = new StreamableHttpWebhookServer({
    createServer: (context) => createV2TestServer(newV2Probe(), context),
    webhookTools: ["count_runs"],
    addressPolicy: allowLoopback,
    logger: recordingLogger(),
    ...options,
  });
  const { url } = await serveOnLoopback(cleanup, server.fetch);
  cleanup(() => server.close());
  return { server, url: `${url}/mcp` };
}

/** A 2026-07-28 webhook call of `count_runs` to a hybrid server. */
function hybridCall(url: string, webhookUrl: string, headers: Record<string, string> = {}) {
  return new Request(url, {
    method: "POST",
    headers: {
      ...json,
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": "2026-07-28",
      "Mcp-Method": "tools/call",
      "Mcp-Name": "count_runs",
      "X-Client-ID": "c",
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 5,
      method: "tools/call",
      params: { name: "count_runs", arguments: {}, _meta: { ...envelope(), webhookUrl } },
    }),
  });
}

Deno.test("SQS: each 2026-07-28 request's return address is checked: a refused one gets nothing, the same client's next request with an allowed one is answered", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("requests");
    const forbidden = await context.queue("forbidden");
    const allowed = await context.queue("allowed");
    const { events } = await startSqsServer(context, requests.url, {
      createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
      addressPolicy: (address) => address === forbidden.url ? "that queue is off limits" : true,
    });
    const attributes = pythonAttributes({ ClientId: "c" });
    const send = (id: number, queueUrl: string) =>
      sendRaw(
        context.sqs,
        requests.url,
        JSON.stringify(modernList(id, "responseQueueUrl", queueUrl)),
        attributes,
      );

    await send(1, forbidden.url);
    await eventually(() =>
      events.some((event) =>
        event.event === "message.refused" &&
        event.fields.reason === "return address refused by the address policy" &&
        event.fields.why === "that queue is off limits"
      )
    );
    await send(2, allowed.url);
    const answer = await receiveOne(context.sqs, allowed.url);
    assert.equal(answer.json.id, 2);
    assert.ok(answer.json.result, answer.body);
    assert.ok(await receiveNone(context.sqs, forbidden.url));
    await eventually(async () => (await messagesOn(context.sqs, requests.url)) === 0);
  });
});

Deno.test("Webhook: a 2026-07-28 request whose webhook the policy refuses gets 400 with the reason, and nothing is delivered there", async () => {
  await withCleanup(async (cleanup) => {
    const target = await hook(cleanup);
    const { url } = await startWebhookServer(cleanup, {
      createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
      addressPolicy: refusing(target.url),
    });
    const response = await fetch(url, {
      method: "POST",
      headers: { ...json, "X-Client-ID": "c" },
      body: JSON.stringify(modernList(1, "webhookUrl", target.url)),
    });
    assert.equal(response.status, 400);
    const answer = await response.json();
    assert.equal(answer.id, 1);
    assert.match(answer.error.message, /that address is off limits/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(target.delivered, []);
  });
});

Deno.test("Webhook: a 2026-07-28 request refused by the authorize hook gets 401 and runs nothing", async () => {
  await withCleanup(async (cleanup) => {
    const target = await hook(cleanup);
    const probe = newV2Probe();
    const { url } = await startWebhookServer(cleanup, {
      createServer: (serverContext) => createV2TestServer(probe, serverContext),
      authorize: bearerTokenAuth(TOKEN),
    });
    const post = (headers: Record<string, string>) =>
      fetch(url, {
        method: "POST",
        headers: { ...json, "X-Client-ID": "c", ...headers },
        body: JSON.stringify(modernList(1, "webhookUrl", target.url)),
      });
    const refused = await post({ Authorization: `Bearer ${TOKEN.replace(/.$/, "x")}` });
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    assert.deepEqual(probe.eras, []);
    const accepted = await post({ Authorization: `Bearer ${TOKEN}` });
    assert.equal(accepted.status, 200);
    await accepted.body?.cancel();
    await eventually(() => target.delivered.length > 0);
    assert.deepEqual(target.delivered, [1], "only the authorized request's answer was delivered");
  });
});

Deno.test("Webhook: a 2026-07-28 request with a foreign Host gets 403 (DNS rebinding)", async () => {
  await withCleanup(async (cleanup) => {
    const target = await hook(cleanup);
    const { server } = await startWebhookServer(cleanup, {
      createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
    });
    const response = await server.fetch(
      new Request("http://evil.example/mcp/request", {
        method: "POST",
        headers: { ...json, "X-Client-ID": "c" },
        body: JSON.stringify(modernList(1, "webhookUrl", target.url)),
      }),
    );
    assert.equal(response.status, 403);
    await response.body?.cancel();
    assert.deepEqual(target.delivered, []);
  });
});

Deno.test("StreamableHTTP+Webhook: a 2026-07-28 webhook call whose webhook the policy refuses gets 400 with the reason, and nothing is delivered there", async () => {
  await withCleanup(async (cleanup) => {
    const target = await hook(cleanup);
    const { url } = await hybrid(cleanup, { addressPolicy: refusing(target.url) });
    const response = await fetch(hybridCall(url, target.url));
    assert.equal(response.status, 400);
    const answer = await response.json();
    assert.equal(answer.id, 5);
    assert.match(answer.error.message, /that address is off limits/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(target.delivered, []);
  });
});

Deno.test("StreamableHTTP+Webhook: a 2026-07-28 request refused by the authorize hook gets 401, and one with a foreign Host 403", async () => {
  await withCleanup(async (cleanup) => {
    const target = await hook(cleanup);
    const { server, url } = await hybrid(cleanup, { authorize: bearerTokenAuth(TOKEN) });
    const unauthorized = await fetch(hybridCall(url, target.url));
    assert.equal(unauthorized.status, 401);
    await unauthorized.body?.cancel();
    const foreign = await server.fetch(
      hybridCall("http://evil.example/mcp", target.url, { Authorization: `Bearer ${TOKEN}` }),
    );
    assert.equal(foreign.status, 403);
    await foreign.body?.cancel();
    assert.deepEqual(target.delivered, []);
    const accepted = await fetch(hybridCall(url, target.url, { Authorization: `Bearer ${TOKEN}` }));
    assert.equal(accepted.status, 200);
    await accepted.body?.cancel();
    await eventually(() => target.delivered.length > 0);
    assert.deepEqual(target.delivered, [5], "only the authorized call's answer was delivered");
  });
});

Deno.test("Webhook: a 2026-07-28 client with maxInFlightPerSession requests unanswered gets 503 for one more", async () => {
  await withCleanup(async (cleanup) => {
    const target = await hook(cleanup);
    const probe = newV2Probe();
    const { url } = await startWebhookServer(cleanup, {
      createServer: (serverContext) => createV2TestServer(probe, serverContext),
      maxInFlightPerSession: 2,
      closeTimeoutMs: 100,
    });
    const call = (id: number) =>
      fetch(url, {
        method: "POST",
        headers: { ...json, "X-Client-ID": "c" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id,
          method: "tools/call",
          params: {
            name: "wait_for_cancel",
            arguments: { id: `w${id}` },
            _meta: { ...envelope(), webhookUrl: target.url },
          },
        }),
      });
    for (const id of [1, 2]) {
      const accepted = await call(id);
      assert.equal(accepted.status, 200);
      await accepted.body?.cancel();
    }
    await eventually(() => probe.started.length === 2);
    const refused = await call(3);
    assert.equal(refused.status, 503);
    const answer = await refused.json();
    assert.equal(answer.id, 3);
    assert.match(answer.error.message, /this client has 2 requests unanswered/);
  });
});

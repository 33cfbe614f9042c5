import assert from "node:assert/strict";
import { WebhookClientTransport } from "../transports/webhook/webhook_client_transport.ts";
import { WebhookReceiver } from "../transports/webhook/webhook_receiver.ts";
import type { WebhookDeliveryFailure } from "../transports/webhook/webhook_outbox.ts";
import {
  connectOrClose,
  createTestClient,
  createTestServer,
  eventually,
  newProbe,
  recordingLogger,
  textOf,
} from "./_fixture.ts";
import {
  type Cleanup,
  serveOnLoopback,
  startWebhookServer,
  withCleanup,
} from "./_webhook_fixture.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/**
 * A client's webhook that can be taken down (it then answers 503, as a restarting receiver's
 * proxy would) and brought back; it records the delivery ids it lets through.
 */
async function switchableWebhook(cleanup: Cleanup) {
  const receiver = new WebhookReceiver({ signingKey: SECRET, logger: recordingLogger() });
  const state = { up: true, refused: 0, taken: [] as string[] };
  const { url } = await serveOnLoopback(cleanup, async (request) => {
    if (!state.up) {
      state.refused++;
      await request.body?.cancel();
      return new Response("down", { status: 503 });
    }
    const response = await receiver.fetch(request);
    if (response.ok) state.taken.push(request.headers.get("webhook-id") ?? "");
    return response;
  });
  return { receiver, webhookUrl: `${url}/webhook`, state };
}

async function connectThrough(
  cleanup: Cleanup,
  serverUrl: string,
  webhook: { receiver: WebhookReceiver; webhookUrl: string },
) {
  const client = createTestClient();
  await connectOrClose(
    client,
    new WebhookClientTransport({
      serverUrl,
      receiver: webhook.receiver,
      webhookUrl: webhook.webhookUrl,
      logger: recordingLogger(),
    }),
  );
  cleanup(() => client.close());
  return client;
}

Deno.test("Webhook: a receiver that is down for a while gets the result once it is back, retried for maxElapsedMs", async () => {
  await withCleanup(async (cleanup) => {
    const probe = newProbe();
    const { url } = await startWebhookServer(cleanup, {
      createServer: () => createTestServer({ probe }),
      signingKey: SECRET,
      // Quick retries: six attempts would be over in well under a second.
      initialDelayMs: 20,
      maxDelayMs: 100,
    });
    const webhook = await switchableWebhook(cleanup);
    const client = await connectThrough(cleanup, url, webhook);
    webhook.state.up = false;
    const call = client.callTool({ name: "count_runs", arguments: {} });
    await eventually(() => webhook.state.refused >= 10);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    webhook.state.up = true;
    assert.equal(textOf(await call), "1");
    assert.equal(probe.runs, 1);
  });
});

Deno.test("Webhook: a result whose delivery gave up is delivered, under its first id, when the client next writes", async () => {
  await withCleanup(async (cleanup) => {
    const failures: WebhookDeliveryFailure[] = [];
    const { url } = await startWebhookServer(cleanup, {
      signingKey: SECRET,
      initialDelayMs: 20,
      maxDelayMs: 50,
      maxElapsedMs: 300,
      onDeliveryFailure: (failure) => void failures.push(failure),
    });
    const webhook = await switchableWebhook(cleanup);
    const client = await connectThrough(cleanup, url, webhook);
    webhook.state.up = false;
    const call = client.callTool({ name: "echo", arguments: { text: "kept" } });
    await eventually(() => failures.length === 1);
    webhook.state.up = true;
    // Any message from the client shows that it is back: what was kept goes out first.
    const [result] = await Promise.all([call, client.ping()]);
    assert.equal(textOf(result), "kept");
    assert.ok(webhook.state.taken.includes(failures[0].deliveryId));
  });
});

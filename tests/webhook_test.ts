import assert from "node:assert/strict";
import { behaviourSuite, type HarnessOptions, type TransportHarness } from "./_behaviour_suite.ts";
import type { BrokerContext } from "./_fixture.ts";
import {
  connectWebhookClient,
  sharedReceiver,
  startWebhookServer,
  withCleanup,
} from "./_webhook_fixture.ts";
import type { WebhookServerOptions } from "../transports/webhook/webhook_server.ts";

async function setupWebhook(context: BrokerContext, options: HarnessOptions = {}) {
  const receiver = await sharedReceiver(context.cleanup);
  const serve = async (serverOptions: Partial<WebhookServerOptions> = {}) =>
    await startWebhookServer(context.cleanup, serverOptions);
  const first = await serve(options.server);
  return {
    server: first.server,
    events: first.events,
    serve: async (serverOptions?: Partial<WebhookServerOptions>) =>
      (await serve(serverOptions)).server,
    async connect(connect: { name?: string; clientId?: string; ownAwsClients?: boolean } = {}) {
      return await connectWebhookClient(context.cleanup, first.url, {
        name: connect.name,
        clientId: connect.clientId,
        // A client of another process has a receiver of its own.
        receiver: connect.ownAwsClients ? undefined : receiver,
      });
    },
  };
}

const webhookHarness: TransportHarness = { name: "Webhook", brokered: false, setup: setupWebhook };

behaviourSuite(webhookHarness);

Deno.test("Webhook: close() called twice ends the session with one DELETE", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await startWebhookServer(cleanup);
    let deletes = 0;
    const { transport } = await connectWebhookClient(cleanup, url, {
      fetch: (request) => {
        if (request.method === "DELETE") deletes++;
        return fetch(request);
      },
    });
    await Promise.all([transport.close(), transport.close()]);
    assert.equal(deletes, 1);
  });
});

/**
 * Webhook test fixtures: a WebhookServer on Deno.serve at 127.0.0.1 on a free port, and test
 * clients that receive on their own or a shared receiver, also on loopback.
 *
 * @module
 */

import { type Client, LATEST_PROTOCOL_VERSION } from "../sdk.ts";
import {
  WebhookClientTransport,
  type WebhookClientTransportOptions,
} from "../transports/webhook/webhook_client_transport.ts";
import { webhookUrlPolicy } from "../transports/webhook/webhook_address_policy.ts";
import { WebhookReceiver } from "../transports/webhook/webhook_receiver.ts";
import { WebhookServer, type WebhookServerOptions } from "../transports/webhook/webhook_server.ts";
import {
  type Cleanup,
  connectOrClose,
  createTestClient,
  createTestServer,
  type LoggedEvent,
  recordingLogger,
} from "./_fixture.ts";

export { type Cleanup, withCleanup } from "./_fixture.ts";

/** Loopback is refused by default; tests allow exactly 127.0.0.1. */
export const allowLoopback = webhookUrlPolicy({ allowHosts: ["127.0.0.1"] });

/** Serves `fetch` on 127.0.0.1 and a free port until the test ends; returns its base URL. */
export async function serveOnLoopback(
  cleanup: Cleanup,
  fetch: (request: Request) => Response | Promise<Response>,
): Promise<{ url: string; shutdown: () => Promise<void> }> {
  const { promise, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: resolve }, fetch);
  const address = await promise;
  let down: Promise<void> | undefined;
  const shutdown = () => down ??= server.shutdown();
  cleanup(shutdown);
  return { url: `http://127.0.0.1:${address.port}`, shutdown };
}

/** Starts a webhook server running the test MCP server on loopback. */
export async function startWebhookServer(
  cleanup: Cleanup,
  options: Partial<WebhookServerOptions> = {},
): Promise<{ server: WebhookServer; url: string; events: LoggedEvent[] }> {
  const logger = recordingLogger();
  const server = new WebhookServer({
    createServer: () => createTestServer(),
    addressPolicy: allowLoopback,
    logger,
    ...options,
  });
  // Closed before the HTTP server stops (cleanups run last first), so sessions end cleanly; both
  // are registered before start(), so a failed start leaves nothing behind.
  const { url } = await serveOnLoopback(cleanup, server.fetch);
  cleanup(() => server.close());
  await server.start();
  return { server, url: `${url}/mcp/request`, events: logger.events };
}

/** Connects a test client over webhooks, closed when the test ends. */
export async function connectWebhookClient(
  cleanup: Cleanup,
  serverUrl: string,
  options: Partial<WebhookClientTransportOptions> & { name?: string } = {},
): Promise<{ client: Client; transport: WebhookClientTransport }> {
  const client = createTestClient(options.name);
  const transport = new WebhookClientTransport({
    serverUrl,
    listen: options.receiver || options.webhookUrl ? undefined : true,
    logger: recordingLogger(),
    ...options,
  });
  await connectOrClose(client, transport);
  cleanup(() => client.close());
  return { client, transport };
}

/** A receiver listening on loopback until the test ends. */
export async function sharedReceiver(cleanup: Cleanup): Promise<WebhookReceiver> {
  const receiver = new WebhookReceiver({ logger: recordingLogger() });
  await receiver.listen();
  cleanup(() => receiver.close());
  return receiver;
}

/** A raw `initialize`, with `_meta` fields (the webhook URL, a secret) when given. */
export function initializeRequest(meta: Record<string, unknown> = {}) {
  return {
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: "raw", version: "1.0.0" },
      _meta: meta,
    },
  };
}

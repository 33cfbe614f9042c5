/**
 * Streamable HTTP + webhook test fixtures: the server on Deno.serve at 127.0.0.1 on a free port,
 * running the test MCP server plus a tool that marks itself for webhook delivery, and clients
 * over the hybrid client transport.
 *
 * @module
 */

import { z } from "zod";
import { LATEST_PROTOCOL_VERSION } from "../sdk.ts";
import type { Client } from "../sdk.ts";
import {
  StreamableHttpWebhookClientTransport,
  type StreamableHttpWebhookClientTransportOptions,
} from "../transports/streamable_http_webhook/streamable_http_webhook_client_transport.ts";
import {
  StreamableHttpWebhookServer,
  type StreamableHttpWebhookServerOptions,
} from "../transports/streamable_http_webhook/streamable_http_webhook_server.ts";
import { DELIVERY_META_KEY } from "../transports/streamable_http_webhook/webhook_call_router.ts";
import {
  connectOrClose,
  createTestClient,
  createTestServer,
  type LoggedEvent,
  recordingLogger,
  type TestServerOptions,
} from "./_fixture.ts";
import { allowLoopback, type Cleanup, serveOnLoopback } from "./_webhook_fixture.ts";

export { initializeRequest } from "./_webhook_fixture.ts";

/** Tools answered by webhook through the server option (the rest answer on the HTTP stream). */
export const WEBHOOK_TOOLS = ["progress", "ask_name", "wait_for_cancel", "work"];

/** The test server, plus `report`, which asks for webhook delivery in its own definition. */
export function createHybridTestServer(options: TestServerOptions = {}) {
  const server = createTestServer(options);
  server.registerTool("report", {
    inputSchema: { topic: z.string() },
    _meta: { [DELIVERY_META_KEY]: "webhook" },
  }, ({ topic }) => ({ content: [{ type: "text", text: `report on ${topic}` }] }));
  return server;
}

/** Starts the server on loopback; returns it with its MCP endpoint and recorded log. */
export async function startHybridServer(
  cleanup: Cleanup,
  options: Partial<StreamableHttpWebhookServerOptions> & { probe?: TestServerOptions } = {},
): Promise<{ server: StreamableHttpWebhookServer; url: string; events: LoggedEvent[] }> {
  const logger = recordingLogger();
  const server = new StreamableHttpWebhookServer({
    createServer: () => createHybridTestServer(options.probe),
    webhookTools: WEBHOOK_TOOLS,
    addressPolicy: allowLoopback,
    logger,
    ...options,
  });
  const { url } = await serveOnLoopback(cleanup, server.fetch);
  cleanup(() => server.close());
  return { server, url: `${url}/mcp`, events: logger.events };
}

/** Connects a test client over the hybrid transport, closed when the test ends. */
export async function connectHybridClient(
  cleanup: Cleanup,
  serverUrl: string,
  options: Partial<StreamableHttpWebhookClientTransportOptions> & { name?: string } = {},
): Promise<{ client: Client; transport: StreamableHttpWebhookClientTransport }> {
  const client = createTestClient(options.name);
  const transport = new StreamableHttpWebhookClientTransport({
    serverUrl,
    listen: options.receiver || options.webhookUrl ? undefined : true,
    logger: recordingLogger(),
    ...options,
  });
  await connectOrClose(client, transport);
  cleanup(() => client.close());
  return { client, transport };
}

/** Headers of a raw Streamable HTTP POST. */
export function mcpHeaders(sessionId?: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    Accept: "application/json, text/event-stream",
    ...(sessionId
      ? { "Mcp-Session-Id": sessionId, "MCP-Protocol-Version": LATEST_PROTOCOL_VERSION }
      : {}),
  };
}

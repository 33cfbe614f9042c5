/**
 * MCP over Streamable HTTP with webhooks for long-running tools: a
 * {@linkcode StreamableHttpWebhookServer} answers quick calls on the HTTP stream as any
 * Streamable HTTP server does, and POSTs the results of chosen tools to the client's webhook; a
 * {@linkcode StreamableHttpWebhookClientTransport} connects the SDK `Client` and receives them.
 *
 * @example Serve, with one tool answered by webhook
 * ```ts ignore
 * import { McpServer } from "@asyncmcp/asyncmcp/sdk";
 * import { StreamableHttpWebhookServer } from "@asyncmcp/asyncmcp/streamable-http-webhook";
 *
 * const server = new StreamableHttpWebhookServer({
 *   createServer: () => new McpServer({ name: "example", version: "1.0.0" }),
 *   webhookTools: ["report"],
 * });
 * Deno.serve({ hostname: "127.0.0.1", port: 8000 }, server.fetch);
 * ```
 *
 * @module
 */

export {
  type Authorize,
  bearerTokenAuth,
  type BearerTokenAuthOptions,
  type Principal,
} from "../http/authorization.ts";
export { hostGuard, type HostGuardOptions } from "../http/host_guard.ts";
export {
  MemoryEventStore,
  type MemoryEventStoreOptions,
  UnknownEventError,
} from "../http/memory_event_store.ts";
export {
  type EndpointAdmission,
  type EndpointAdmit,
  type EndpointSession,
  StreamableHttpEndpoint,
  type StreamableHttpEndpointOptions,
} from "../http/streamable_http_endpoint.ts";
export {
  StreamableHttpWebhookClientTransport,
  type StreamableHttpWebhookClientTransportOptions,
} from "./streamable_http_webhook_client_transport.ts";
export {
  StreamableHttpWebhookServer,
  type StreamableHttpWebhookServerOptions,
} from "./streamable_http_webhook_server.ts";
export { DELIVERY_META_KEY, UNDELIVERED_METHOD } from "./webhook_call_router.ts";
/** The SDK type that the client transport's `http` option names. */
export type { StreamableHTTPClientTransportOptions } from "@modelcontextprotocol/client";

/**
 * The proxy: standard MCP clients (Streamable HTTP) reach a server that sits behind SQS, SNS+SQS,
 * webhooks or Streamable HTTP + webhook. Each front session gets a back-end session of its own;
 * back ends share one reply channel.
 *
 * @example
 * ```ts ignore
 * import { StreamableHttpProxy } from "@asyncmcp/asyncmcp/proxy";
 *
 * const proxy = new StreamableHttpProxy({ backend: () => makeBackendTransport() });
 * Deno.serve({ hostname: "127.0.0.1", port: 3000 }, proxy.fetch);
 * ```
 *
 * @module
 */

export { StreamableHttpProxy, type StreamableHttpProxyOptions } from "./http_proxy.ts";
export { ProxySession, type ProxySessionOptions, type ProxyWaitOptions } from "./proxy_session.ts";
export { serveStdio, type StdioProxyOptions } from "./stdio_proxy.ts";
export type { LogFields, Logger, LogLevel } from "../session/logger.ts";
export type { HostGuardOptions } from "../transports/http/host_guard.ts";
export {
  type Authorize,
  bearerTokenAuth,
  type BearerTokenAuthOptions,
  type Principal,
} from "../transports/http/authorization.ts";
export type { StreamableHttpEndpointOptions } from "../transports/http/streamable_http_endpoint.ts";

/**
 * The MCP SDK v2 (`@modelcontextprotocol/server` and `@modelcontextprotocol/client`), which serves
 * both MCP eras: the stateless 2026-07-28 revision and the 2025-11-25 session protocol. asyncmcp's
 * transports carry both; a server whose `createServer` returns a v2 `McpServer` answers
 * 2026-07-28 requests as well as 2025 sessions.
 *
 * The v2 packages type correctly under Deno (unlike the v1 SDK's deep imports, see `./sdk`); this
 * module gathers what asyncmcp users need from them in one import.
 *
 * @example A v2 client that negotiates the era with the server
 * ```ts
 * import { Client } from "@asyncmcp/asyncmcp/sdk/v2";
 *
 * const client = new Client(
 *   { name: "example", version: "1.0.0" },
 *   { versionNegotiation: { mode: "auto" } },
 * );
 * ```
 *
 * @module
 */

export {
  InMemoryServerEventBus,
  inputRequired,
  McpServer,
  type McpServerFactory,
  PROTOCOL_VERSION_META_KEY,
  Server,
  type ServerContext,
  type ServerEvent,
  type ServerEventBus,
} from "@modelcontextprotocol/server";
export type {
  CallToolResult,
  JSONRPCMessage,
  RequestId,
  Transport,
  TransportSendOptions,
} from "@modelcontextprotocol/server";
export { Client, type ClientOptions } from "@modelcontextprotocol/client";

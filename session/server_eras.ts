/**
 * Which MCP eras a server built by a factory serves: SDK v2 servers serve the stateless
 * 2026-07-28 revision as well as 2025-11-25 sessions, SDK v1 servers the sessions only.
 *
 * @module
 */

import { McpServer as McpServerV2 } from "@modelcontextprotocol/server";
import { type JSONRPCMessage, SUPPORTED_PROTOCOL_VERSIONS } from "../sdk.ts";
import { JSONRPC_ERROR, type JsonRpcErrorObject, methodOf, modernRevisionOf } from "./envelope.ts";
import type { ConnectableServer } from "./session_registry.ts";

/**
 * Whether a server from `createServer` serves 2026-07-28 requests: SDK v2 servers (which know
 * the protocol era they serve) do, SDK v1 servers speak 2025-11-25 only.
 *
 * @example
 * ```ts
 * import { McpServer } from "@asyncmcp/asyncmcp/sdk";
 * import { servesBothEras } from "./server_eras.ts";
 *
 * console.log(servesBothEras(new McpServer({ name: "v1", version: "1.0.0" }))); // false
 * ```
 */
export function servesBothEras(server: ConnectableServer): boolean {
  const inner = (server as { server?: unknown }).server ?? server;
  return typeof (inner as { getNegotiatedProtocolVersion?: unknown })
    .getNegotiatedProtocolVersion ===
    "function";
}

/**
 * The answer of a server that speaks 2025-11-25 only to a 2026-07-28 message: "method not
 * found" for an SDK v2 client's `server/discover` probe, the unsupported-version error (-32022)
 * for anything else; both make an SDK v2 client fall back to `initialize`.
 *
 * @example
 * ```ts
 * import { legacyOnlyError } from "./server_eras.ts";
 *
 * console.log(legacyOnlyError({ jsonrpc: "2.0", id: 1, method: "server/discover" }).code); // -32601
 * ```
 */
export function legacyOnlyError(message: JSONRPCMessage): JsonRpcErrorObject {
  if (methodOf(message) === "server/discover") {
    return {
      code: JSONRPC_ERROR.METHOD_NOT_FOUND,
      message: "Method not found: this server speaks MCP 2025-11-25 only; send initialize",
    };
  }
  const requested = modernRevisionOf(message);
  return {
    code: JSONRPC_ERROR.UNSUPPORTED_PROTOCOL_VERSION,
    message: `Unsupported protocol version: ${String(requested)}; this server speaks ` +
      `${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}: send initialize`,
    data: { supported: [...SUPPORTED_PROTOCOL_VERSIONS], requested },
  };
}

/**
 * The low-level SDK v2 `Server` of what a factory built (an `McpServer` wraps one; a low-level
 * `Server` is its own).
 *
 * @example
 * ```ts
 * import { McpServer } from "@asyncmcp/asyncmcp/sdk/v2";
 * import { lowLevelServer } from "./server_eras.ts";
 *
 * const server = new McpServer({ name: "v2", version: "1.0.0" });
 * console.log(lowLevelServer(server) === server.server); // true
 * ```
 */
export function lowLevelServer(server: McpServerV2): McpServerV2["server"] {
  return server instanceof McpServerV2 ? server.server : server as unknown as McpServerV2["server"];
}

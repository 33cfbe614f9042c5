/**
 * Host and Origin checks against DNS rebinding: a web page on a hostile domain that resolves to
 * 127.0.0.1 reaches a local server with its own name in `Host` and `Origin`. A local server must
 * refuse names it does not answer to.
 *
 * @module
 */

import { JSONRPC_ERROR } from "../../session/envelope.ts";
import { jsonRpcErrorResponse } from "./http_message.ts";

/** Options for {@linkcode hostGuard}. */
export interface HostGuardOptions {
  /**
   * Host names (without port) the server answers to, or `"*"` for any (a public server behind
   * its own domain checks nothing here). @default {["localhost", "127.0.0.1", "[::1]"]}
   */
  allowedHosts?: readonly string[] | "*";
  /**
   * Origins (`scheme://host[:port]`) browsers may call from. Requests without `Origin` (not from
   * a browser) are always let through. @default {any origin whose host is an allowed host}
   */
  allowedOrigins?: readonly string[];
}

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];

/**
 * Builds a check that answers 403 with a JSON-RPC error for a request whose `Host` or `Origin`
 * is not allowed, and `undefined` for one that may go on.
 *
 * @example Answer only to the local names, as by default
 * ```ts
 * import { hostGuard } from "@asyncmcp/asyncmcp/streamable-http-webhook";
 *
 * const guard = hostGuard();
 * const refused = guard(
 *   new Request("http://evil.example:8000/mcp", { headers: { Host: "evil.example:8000" } }),
 * );
 * console.log(refused?.status); // 403
 * ```
 */
export function hostGuard(
  options: HostGuardOptions = {},
): (request: Request) => Response | undefined {
  const hosts = options.allowedHosts ?? LOOPBACK_NAMES;
  const hostAllowed = hosts === "*"
    ? () => true
    : (name: string) => hosts.includes(name.toLowerCase());
  const origins = options.allowedOrigins?.map((origin) => origin.toLowerCase());
  return (request) => {
    const host = request.headers.get("host") ?? new URL(request.url).host;
    if (!hostAllowed(hostnameOf(host))) {
      return forbidden(
        `Host ${host} is not allowed: add it to allowedHosts if this server serves it`,
      );
    }
    const origin = request.headers.get("origin");
    if (origin === null) return undefined;
    const allowed = origins
      ? origins.includes(origin.toLowerCase())
      : URL.canParse(origin) && hostAllowed(new URL(origin).hostname);
    if (!allowed) {
      return forbidden(
        `Origin ${origin} is not allowed: add it to allowedOrigins to let browsers on it in`,
      );
    }
    return undefined;
  };
}

/** The name part of a Host header: `[::1]:8000` → `[::1]`, `example.com:443` → `example.com`. */
function hostnameOf(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.indexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}

function forbidden(message: string): Response {
  return jsonRpcErrorResponse(403, {
    code: JSONRPC_ERROR.INVALID_REQUEST,
    message: `Forbidden: ${message}`,
  }, null);
}

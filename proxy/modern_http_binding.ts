/**
 * The rules of the 2026-07-28 Streamable HTTP binding that the proxy applies itself, because the
 * server behind it never sees the HTTP request: the standard request headers must agree with the
 * body (SEP-2243, and SEP-2663 for the tasks methods), and a protocol-level refusal from the
 * server gets the HTTP status the binding gives it. The SDK's own entry (`createMcpHandler`) does
 * both, but `@modelcontextprotocol/server` 2.4.0 exports neither piece
 * (`validateStandardRequestHeaders`, `httpStatusForErrorCode`), so they are mirrored here.
 *
 * @module
 */

import type { JSONRPCMessage } from "../sdk.ts";
import { JSONRPC_ERROR, type JsonRpcErrorObject, methodOf } from "../session/envelope.ts";
import { HEADER } from "../session/envelope_codec.ts";

/** The MCP error code of a request whose standard HTTP headers disagree with its body. */
export const HEADER_MISMATCH = -32020;
/** MCP 2026-07-28: the request needs a client capability it did not declare. */
const MISSING_CLIENT_CAPABILITY = -32021;

/**
 * Which body field `Mcp-Name` mirrors, per method: SEP-2243's table plus SEP-2663's tasks
 * methods (the SDK's `MCP_NAME_HEADER_SOURCE`).
 */
const MCP_NAME_SOURCE: Readonly<Record<string, string>> = {
  "tools/call": "name",
  "prompts/get": "name",
  "resources/read": "uri",
  "tasks/get": "taskId",
  "tasks/update": "taskId",
  "tasks/cancel": "taskId",
};

const BASE64_PREFIX = "=?base64?";
const BASE64_SUFFIX = "?=";
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The refusal (-32020, to be sent with HTTP 400) of a 2026-07-28 request whose standard headers
 * the body contradicts: `MCP-Protocol-Version` or `Mcp-Method` absent, or `Mcp-Name` absent,
 * malformed or naming another target than the body. Undefined when they agree. A header that is
 * present but names another method or revision is already refused by the SDK's classification.
 */
export function standardHeaderRefusal(
  headers: Headers,
  request: JSONRPCMessage,
): JsonRpcErrorObject | undefined {
  const method = methodOf(request)!;
  for (const name of [HEADER.STANDARD_PROTOCOL_VERSION, "Mcp-Method"]) {
    if (!headers.has(name)) {
      return mismatch(
        `the required ${name} header is absent; send it with the value the body names`,
      );
    }
  }
  const field = Object.hasOwn(MCP_NAME_SOURCE, method) ? MCP_NAME_SOURCE[method] : undefined;
  if (field === undefined) return undefined;
  const params = (request as { params?: Record<string, unknown> }).params;
  const named = typeof params?.[field] === "string" ? params[field] as string : undefined;
  const header = headers.get("mcp-name");
  if (header === null) {
    // A body without the field is left to the server, which refuses its params.
    if (named === undefined) return undefined;
    return mismatch(
      `the body carries params.${field}="${named}" but the required Mcp-Name header is absent`,
    );
  }
  // Compared without optional whitespace around the value (RFC 9110 section 5.5).
  const decoded = decodeSentinel(header.replace(/^[ \t]+|[ \t]+$/g, ""));
  if (decoded === undefined) {
    return mismatch("the Mcp-Name header carries an invalid Base64 sentinel value");
  }
  if (named !== undefined && decoded !== named) {
    return mismatch(
      `the body carries params.${field}="${named}" but the Mcp-Name header names "${decoded}"`,
    );
  }
  return undefined;
}

/**
 * The HTTP status of the server's error answer to a 2026-07-28 request, when the binding gives
 * that error one (404 for -32601, 400 for -32020, -32021 and -32022); undefined for every other
 * answer, which travels with 200.
 *
 * Over an asynchronous transport the proxy cannot tell a refusal of the protocol layer from an
 * error a handler returned (the SDK maps only the former, except -32021). So only the codes the
 * protocol layer gives, and handlers have no cause to, are mapped: -32602 (also a handler's
 * "invalid arguments") stays on 200 as the SDK keeps it, and -32600/-32700 cannot come back for a
 * body the proxy has already parsed and classified.
 */
export function refusalStatus(answer: JSONRPCMessage): number | undefined {
  const code = (answer as { error?: { code?: unknown } }).error?.code;
  switch (code) {
    case JSONRPC_ERROR.METHOD_NOT_FOUND:
      return 404;
    case HEADER_MISMATCH:
    case MISSING_CLIENT_CAPABILITY:
    case JSONRPC_ERROR.UNSUPPORTED_PROTOCOL_VERSION:
      return 400;
    default:
      return undefined;
  }
}

function mismatch(detail: string): JsonRpcErrorObject {
  return { code: HEADER_MISMATCH, message: `Header mismatch: ${detail}` };
}

/** A header value, with the `=?base64?…?=` sentinel decoded; undefined when it is malformed. */
function decodeSentinel(value: string): string | undefined {
  if (!value.startsWith(BASE64_PREFIX) || !value.endsWith(BASE64_SUFFIX)) return value;
  const encoded = value.slice(BASE64_PREFIX.length, value.length - BASE64_SUFFIX.length);
  if (!CANONICAL_BASE64.test(encoded)) return undefined;
  try {
    const bytes = Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

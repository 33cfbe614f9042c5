/**
 * The envelope: one JSON-RPC message plus the routing facts that travel beside it.
 *
 * @module
 */

import { classifyInboundRequest } from "@modelcontextprotocol/server";
import { type JSONRPCMessage, JSONRPCMessageSchema, type RequestId } from "../sdk.ts";

/** Routing facts that travel beside a message, as attributes or headers (README: Wire format). */
export interface Routing {
  /** The session this message belongs to; chosen by the server, absent before `initialize` is answered. */
  sessionId?: string;
  /** The sending client's id; servers echo it so that many clients can share one reply channel. */
  clientId?: string;
  /** The negotiated MCP protocol version, once known. */
  protocolVersion?: string;
  /** When the message was sent, in Unix epoch seconds. */
  timestamp?: number;
}

/**
 * A JSON-RPC message with its routing facts: what every inbox produces and every outbox sends.
 *
 * @example An envelope for a tools/call request
 * ```ts
 * import type { Envelope } from "@asyncmcp/asyncmcp";
 *
 * const envelope: Envelope = {
 *   message: { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo" } },
 *   sessionId: "6f1c0c5a0a0b4b43a4b8c1f1f3f0f9aa",
 *   clientId: "client-1",
 * };
 * ```
 */
export interface Envelope extends Routing {
  /** The JSON-RPC message, exactly as it travels in the body. */
  message: JSONRPCMessage;
}

/** A JSON-RPC error object as it appears in an error response. */
export interface JsonRpcErrorObject {
  /** One of the standard negative codes, or a server error in -32000..-32099. */
  code: number;
  /** A sentence that says what went wrong and what to do. */
  message: string;
  /** Facts about the error a client can act on (the supported versions, ...). */
  data?: unknown;
}

/**
 * A message that arrived but is not a usable JSON-RPC message, with whatever routing facts and
 * request id could still be read, so the receiver can answer the sender with the error.
 */
export interface InvalidEnvelope extends Routing {
  /** The JSON-RPC error that answers this message. */
  error: JsonRpcErrorObject;
  /** The `id` of the offending request when it could be read, otherwise null. */
  id: RequestId | null;
}

/** What an inbox hands over: a valid envelope or a described failure. */
export type Incoming =
  | { readonly ok: true; readonly envelope: Envelope }
  | { readonly ok: false; readonly invalid: InvalidEnvelope };

/**
 * JSON-RPC error codes used by asyncmcp (the standard ones plus server errors).
 *
 * @example
 * ```ts
 * import { JSONRPC_ERROR } from "@asyncmcp/asyncmcp/session";
 *
 * console.log(JSONRPC_ERROR.PARSE_ERROR); // -32700
 * ```
 */
export const JSONRPC_ERROR = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** Server error: the server cannot take this request now (session limit, shutting down). */
  SERVER_BUSY: -32000,
  /** Server error used by the Streamable HTTP spec for an unknown session. */
  SESSION_NOT_FOUND: -32001,
  /** Server error: the sender is known but may not use this session (403 over HTTP). */
  FORBIDDEN: -32003,
  /** MCP 2026-07-28: the request names a protocol revision the server does not serve. */
  UNSUPPORTED_PROTOCOL_VERSION: -32022,
} as const;

/**
 * The `params._meta` key with which an MCP 2026-07-28 message names its protocol revision.
 *
 * @example
 * ```ts
 * import { PROTOCOL_VERSION_META_KEY } from "./envelope.ts";
 *
 * console.log(PROTOCOL_VERSION_META_KEY); // "io.modelcontextprotocol/protocolVersion"
 * ```
 */
export const PROTOCOL_VERSION_META_KEY = "io.modelcontextprotocol/protocolVersion";

/**
 * The protocol revision a stateless (2026-07-28 era) request or notification names in
 * `params._meta`, or undefined for 2025-era messages. An `initialize` opens a 2025-era session
 * unless it carries a complete, valid 2026-07-28 envelope: then, as in the SDK's own entries, it is
 * a 2026-07-28 request like any other (answered "method not found").
 *
 * @example
 * ```ts
 * import { modernRevisionOf } from "./envelope.ts";
 *
 * console.log(modernRevisionOf({
 *   jsonrpc: "2.0",
 *   id: 1,
 *   method: "tools/list",
 *   params: { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } },
 * })); // "2026-07-28"
 * ```
 */
export function modernRevisionOf(message: JSONRPCMessage): string | undefined {
  if (!("method" in message)) return undefined;
  if (message.method === "initialize" && !carriesModernEnvelope(message)) return undefined;
  const meta = (message.params as { _meta?: Record<string, unknown> } | undefined)?._meta;
  const revision = meta?.[PROTOCOL_VERSION_META_KEY];
  return revision === undefined ? undefined : String(revision);
}

/** Whether `message` carries a valid 2026-07-28 envelope, by the SDK's own era rules. */
function carriesModernEnvelope(message: JSONRPCMessage): boolean {
  return classifyInboundRequest({ httpMethod: "POST", body: message }).kind === "modern";
}

/**
 * The method of a request or notification, or undefined for a response.
 *
 * @example
 * ```ts
 * import { methodOf } from "./envelope.ts";
 *
 * console.log(methodOf({ jsonrpc: "2.0", id: 1, method: "ping" })); // "ping"
 * ```
 */
export function methodOf(message: JSONRPCMessage): string | undefined {
  return "method" in message ? message.method : undefined;
}

/**
 * The id of a request, or undefined for notifications and responses.
 *
 * @example
 * ```ts
 * import { requestIdOf } from "./envelope.ts";
 *
 * console.log(requestIdOf({ jsonrpc: "2.0", id: 1, method: "ping" })); // 1
 * ```
 */
export function requestIdOf(message: JSONRPCMessage): RequestId | undefined {
  return "method" in message && "id" in message ? message.id : undefined;
}

/**
 * Whether the message is a response (a result or an error for some request id).
 *
 * @example
 * ```ts
 * import { isResponse } from "./envelope.ts";
 *
 * console.log(isResponse({ jsonrpc: "2.0", id: 1, result: {} })); // true
 * ```
 */
export function isResponse(message: JSONRPCMessage): boolean {
  return !("method" in message) && ("result" in message || "error" in message);
}

/**
 * Builds a JSON-RPC error response.
 *
 * @example
 * ```ts
 * import { errorResponse, JSONRPC_ERROR } from "@asyncmcp/asyncmcp/session";
 *
 * const answer = errorResponse(7, { code: JSONRPC_ERROR.INVALID_PARAMS, message: "Invalid params: 'city' is missing" });
 * ```
 */
export function errorResponse(
  id: RequestId | null,
  error: JsonRpcErrorObject,
): JSONRPCMessage {
  // The SDK's type has no null id, but JSON-RPC requires null when the id could not be read.
  return { jsonrpc: "2.0", id, error } as unknown as JSONRPCMessage;
}

/**
 * Parses a message body into a JSON-RPC message or the error that answers it. What it accepts is
 * exactly what the MCP SDK accepts (its `JSONRPCMessageSchema`): a message the SDK would drop
 * unanswered, such as a request with a fractional id, is refused here with -32600 instead.
 *
 * @example
 * ```ts
 * import { parseJsonRpc } from "./envelope.ts";
 *
 * const parsed = parseJsonRpc("[1, 2]");
 * if (!parsed.ok) console.log(parsed.error.code); // -32600: batches are not supported
 * ```
 */
export function parseJsonRpc(body: string): ParsedJsonRpc {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return {
      ok: false,
      id: null,
      error: {
        code: JSONRPC_ERROR.PARSE_ERROR,
        message: "Parse error: the body is not valid JSON",
      },
    };
  }
  return checkJsonRpc(value);
}

/** What {@linkcode parseJsonRpc} and {@linkcode checkJsonRpc} return. */
export type ParsedJsonRpc =
  | { ok: true; message: JSONRPCMessage }
  | { ok: false; error: JsonRpcErrorObject; id: RequestId | null };

/**
 * Checks that an already parsed JSON value is one JSON-RPC 2.0 message that the MCP SDK takes
 * (see {@linkcode parseJsonRpc}); a refusal names what is wrong and carries the request's id when
 * it is a usable one (a string or a safe integer).
 *
 * @example
 * ```ts
 * import { checkJsonRpc } from "./envelope.ts";
 *
 * console.log(checkJsonRpc({ jsonrpc: "2.0", method: "notifications/initialized" }).ok); // true
 * console.log(checkJsonRpc({ jsonrpc: "2.0", id: 1.5, method: "ping" }).ok); // false
 * ```
 */
export function checkJsonRpc(value: unknown): ParsedJsonRpc {
  if (Array.isArray(value)) {
    return {
      ok: false,
      id: null,
      error: {
        code: JSONRPC_ERROR.INVALID_REQUEST,
        message: "Invalid request: JSON-RPC batches are not supported, send one message per body",
      },
    };
  }
  if (typeof value !== "object" || value === null) {
    return { ok: false, id: null, error: invalidShape("the body is not a JSON object") };
  }
  const rawId = (value as { id?: unknown }).id;
  const id = typeof rawId === "string" || Number.isSafeInteger(rawId) ? rawId as RequestId : null;
  const parsed = JSONRPCMessageSchema.safeParse(value);
  if (parsed.success || isNullIdError(value as Record<string, unknown>)) {
    return { ok: true, message: value as JSONRPCMessage };
  }
  return { ok: false, id, error: invalidShape(describeProblem(value as Record<string, unknown>)) };
}

/** What is wrong with an object the SDK's schema refused, in the terms a sender fixes. */
function describeProblem(object: Record<string, unknown>): string {
  if (object.jsonrpc !== "2.0") return `'jsonrpc' must be "2.0"`;
  if ("id" in object && !(typeof object.id === "string" || Number.isSafeInteger(object.id))) {
    return "'id' must be a string or a safe integer";
  }
  const kinds = ["method", "result", "error"].filter((key) => key in object);
  if (kinds.length !== 1) {
    return kinds.length === 0
      ? "expected a request, a notification or a response"
      : `a message has one of 'method', 'result' or 'error', not ${kinds.join(" and ")}`;
  }
  if ("method" in object) {
    if (typeof object.method !== "string") return "'method' must be a string";
    if ("params" in object && (typeof object.params !== "object" || Array.isArray(object.params))) {
      return "'params' must be an object";
    }
  }
  const known = new Set(["jsonrpc", "id", "method", "params", "result", "error"]);
  const extra = Object.keys(object).filter((key) => !known.has(key));
  if (extra.length > 0) return `unexpected member ${extra.map((key) => `'${key}'`).join(", ")}`;
  if ("error" in object) return "'error' must be an object with an integer 'code' and a 'message'";
  if ("result" in object) return "'result' must be an object";
  return "the message does not match MCP's JSON-RPC schema (check 'params._meta')";
}

/**
 * An error answering a request whose id could not be read: JSON-RPC requires `id: null` there,
 * which the SDK's schema (an optional id) does not allow.
 */
function isNullIdError(object: Record<string, unknown>): boolean {
  if (object.jsonrpc !== "2.0" || object.id !== null || "method" in object) return false;
  const error = object.error as { code?: unknown; message?: unknown } | undefined;
  return Number.isInteger(error?.code) && typeof error?.message === "string" &&
    Object.keys(object).length === 3;
}

function invalidShape(reason: string): JsonRpcErrorObject {
  return { code: JSONRPC_ERROR.INVALID_REQUEST, message: `Invalid request: ${reason}` };
}

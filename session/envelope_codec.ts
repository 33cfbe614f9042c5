/**
 * The one place that knows the wire names of routing facts: SQS/SNS message attributes
 * (README: Wire format). Everything else works with {@linkcode Envelope}s.
 *
 * @module
 */

import {
  checkJsonRpc,
  type Envelope,
  type Incoming,
  methodOf,
  type ParsedJsonRpc,
  parseJsonRpc,
  requestIdOf,
  type Routing,
} from "./envelope.ts";

/** A message attribute as SQS and SNS both spell it in their APIs. */
export interface MessageAttribute {
  /** `String` or `Number` (asyncmcp never sends binary attributes). */
  DataType: string;
  /** The value, as text. */
  StringValue?: string;
}

/** Message attributes by name. */
export type MessageAttributes = Record<string, MessageAttribute>;

/**
 * The attribute names of the wire contract (compat with the Python asyncmcp peers).
 *
 * @example
 * ```ts
 * import { ATTRIBUTE } from "@asyncmcp/asyncmcp/session";
 *
 * console.log(ATTRIBUTE.SESSION_ID); // "SessionId"
 * ```
 */
export const ATTRIBUTE = {
  MESSAGE_TYPE: "MessageType",
  TIMESTAMP: "Timestamp",
  SESSION_ID: "SessionId",
  CLIENT_ID: "ClientId",
  REQUEST_ID: "RequestId",
  METHOD: "Method",
  PROTOCOL_VERSION: "ProtocolVersion",
} as const;

/**
 * Turns an envelope into a message body and its attributes.
 *
 * @example Encode a request
 * ```ts
 * import { encodeAttributes } from "@asyncmcp/asyncmcp/session";
 *
 * const { body, attributes } = encodeAttributes({
 *   message: { jsonrpc: "2.0", id: 7, method: "ping" },
 *   clientId: "client-1",
 * });
 * console.log(body, attributes.Method.StringValue); // ... "ping"
 * ```
 */
export function encodeAttributes(
  envelope: Envelope,
): { body: string; attributes: MessageAttributes } {
  const { message } = envelope;
  const attributes: MessageAttributes = {
    [ATTRIBUTE.MESSAGE_TYPE]: { DataType: "String", StringValue: "jsonrpc" },
    [ATTRIBUTE.TIMESTAMP]: {
      DataType: "Number",
      StringValue: String(envelope.timestamp ?? Date.now() / 1000),
    },
  };
  if (envelope.sessionId) {
    attributes[ATTRIBUTE.SESSION_ID] = { DataType: "String", StringValue: envelope.sessionId };
  }
  if (envelope.clientId) {
    attributes[ATTRIBUTE.CLIENT_ID] = { DataType: "String", StringValue: envelope.clientId };
  }
  const id = requestIdOf(message);
  if (id !== undefined) {
    attributes[ATTRIBUTE.REQUEST_ID] = {
      DataType: "String",
      StringValue: queueSafeText(String(id)),
    };
  }
  const method = methodOf(message);
  if (method !== undefined) {
    attributes[ATTRIBUTE.METHOD] = { DataType: "String", StringValue: queueSafeText(method) };
  }
  if (envelope.protocolVersion) {
    attributes[ATTRIBUTE.PROTOCOL_VERSION] = {
      DataType: "String",
      StringValue: envelope.protocolVersion,
    };
  }
  return { body: queueSafeJson(JSON.stringify(message)), attributes };
}

/**
 * Characters SQS refuses in a message (U+FFFE, U+FFFF), and those beyond the Basic Multilingual
 * Plane, which some brokers refuse too; JSON text never holds others outside SQS's set, since
 * `JSON.stringify` escapes control characters and lone surrogates.
 */
const NOT_QUEUE_SAFE = /[\uFFFE\uFFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF]/;
const NOT_QUEUE_SAFE_ALL = new RegExp(NOT_QUEUE_SAFE.source, "g");

/**
 * JSON text every queue accepts: the characters SQS refuses, and astral ones, written as JSON
 * `\u` escapes, which mean the same characters to any JSON reader.
 *
 * @example
 * ```ts
 * import { queueSafeJson } from "@asyncmcp/asyncmcp/session";
 *
 * console.log(queueSafeJson(JSON.stringify({ text: "\uFFFE🙂" }))); // {"text":"\ufffe\ud83d\ude42"}
 * ```
 */
export function queueSafeJson(json: string): string {
  if (!NOT_QUEUE_SAFE.test(json)) return json;
  return json.replace(NOT_QUEUE_SAFE_ALL, (match) => {
    let escaped = "";
    for (let i = 0; i < match.length; i++) {
      escaped += "\\u" + match.charCodeAt(i).toString(16).padStart(4, "0");
    }
    return escaped;
  });
}

/** An attribute value SQS accepts: refused characters become U+FFFD (attributes are not JSON). */
function queueSafeText(text: string): string {
  return text.replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD]/g, "\uFFFD");
}

/**
 * Reads a message body and its attributes back into an envelope, or into the JSON-RPC error that
 * answers a malformed one (with every routing fact that could still be read).
 *
 * @example Decode what a Python asyncmcp client sent
 * ```ts
 * import { decodeAttributes } from "@asyncmcp/asyncmcp/session";
 *
 * const incoming = decodeAttributes('{"jsonrpc":"2.0","id":1,"method":"ping"}', {
 *   SessionId: { DataType: "String", StringValue: "abc" },
 * });
 * if (incoming.ok) console.log(incoming.envelope.sessionId); // "abc"
 * ```
 */
export function decodeAttributes(
  body: string,
  attributes:
    | Readonly<Record<string, { DataType?: string; StringValue?: string } | undefined>>
    | undefined,
): Incoming {
  return toIncoming(parseJsonRpc(body), routingOfAttributes(attributes ?? {}));
}

/**
 * Like {@linkcode decodeAttributes}, for a body that has already been parsed as JSON.
 *
 * @example
 * ```ts
 * import { decodeParsed } from "@asyncmcp/asyncmcp/session";
 *
 * const incoming = decodeParsed({ jsonrpc: "2.0", id: 1, method: "ping" }, {});
 * console.log(incoming.ok); // true
 * ```
 */
export function decodeParsed(
  value: unknown,
  attributes:
    | Readonly<Record<string, { DataType?: string; StringValue?: string } | undefined>>
    | undefined,
): Incoming {
  return toIncoming(checkJsonRpc(value), routingOfAttributes(attributes ?? {}));
}

function toIncoming(parsed: ParsedJsonRpc, routing: Routing): Incoming {
  if (!parsed.ok) {
    return { ok: false, invalid: { ...routing, error: parsed.error, id: parsed.id } };
  }
  return { ok: true, envelope: { ...routing, message: parsed.message } };
}

/**
 * Size in bytes that SQS and SNS count for a message: body plus attribute names, types and values.
 *
 * @example
 * ```ts
 * import { encodeAttributes, encodedSize } from "@asyncmcp/asyncmcp/session";
 *
 * const { body, attributes } = encodeAttributes({ message: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * console.log(encodedSize(body, attributes) < 262_144);
 * ```
 */
export function encodedSize(body: string, attributes: MessageAttributes): number {
  let size = utf8Length(body);
  for (const [name, value] of Object.entries(attributes)) {
    size += utf8Length(name) + utf8Length(value.DataType) + utf8Length(value.StringValue ?? "");
  }
  return size;
}

const encoder = new TextEncoder();

function utf8Length(text: string): number {
  // ASCII fast path: most bodies are ASCII JSON, and encoding them just to count is wasted work.
  // deno-lint-ignore no-control-regex
  return /^[\x00-\x7f]*$/.test(text) ? text.length : encoder.encode(text).length;
}

/**
 * The routing facts a queue message's attributes carry (see {@linkcode decodeAttributes}).
 *
 * @example
 * ```ts
 * import { routingOfAttributes } from "@asyncmcp/asyncmcp/session";
 *
 * const routing = routingOfAttributes({ SessionId: { StringValue: "abc" } });
 * console.log(routing.sessionId); // "abc"
 * ```
 */
export function routingOfAttributes(
  attributes: Readonly<Record<string, { StringValue?: string } | undefined>>,
): Routing {
  const routing: Routing = {};
  const text = (name: string) => {
    const value = attributes[name]?.StringValue;
    return value === undefined || value === "" ? undefined : value;
  };
  const sessionId = text(ATTRIBUTE.SESSION_ID);
  if (sessionId !== undefined) routing.sessionId = sessionId;
  const clientId = text(ATTRIBUTE.CLIENT_ID);
  if (clientId !== undefined) routing.clientId = clientId;
  const protocolVersion = text(ATTRIBUTE.PROTOCOL_VERSION);
  if (protocolVersion !== undefined) routing.protocolVersion = protocolVersion;
  const timestamp = Number(text(ATTRIBUTE.TIMESTAMP));
  if (Number.isFinite(timestamp)) routing.timestamp = timestamp;
  return routing;
}

/**
 * The HTTP header names of the wire contract: the Python peers' `X-` headers, and the standard
 * MCP spellings a receiver also accepts.
 *
 * @example
 * ```ts
 * import { HEADER } from "@asyncmcp/asyncmcp/session";
 *
 * console.log(HEADER.SESSION_ID); // "X-Session-ID"
 * ```
 */
export const HEADER = {
  CLIENT_ID: "X-Client-ID",
  SESSION_ID: "X-Session-ID",
  PROTOCOL_VERSION: "X-Protocol-Version",
  REQUEST_ID: "X-Request-ID",
  METHOD: "X-Method",
  STANDARD_SESSION_ID: "Mcp-Session-Id",
  STANDARD_PROTOCOL_VERSION: "MCP-Protocol-Version",
} as const;

/**
 * Turns an envelope into an HTTP body and its headers (`Content-Type: application/json` and the
 * routing facts).
 *
 * @example
 * ```ts
 * import { encodeHeaders } from "@asyncmcp/asyncmcp/session";
 *
 * const { headers } = encodeHeaders({
 *   message: { jsonrpc: "2.0", id: 3, method: "tools/call" },
 *   sessionId: "abc",
 * });
 * console.log(headers.get("X-Method")); // "tools/call"
 * ```
 */
export function encodeHeaders(envelope: Envelope): { body: string; headers: Headers } {
  const { message } = envelope;
  const headers = new Headers({ "Content-Type": "application/json" });
  if (envelope.sessionId) {
    headers.set(HEADER.SESSION_ID, envelope.sessionId);
    // The StreamableHTTP+Webhook wire names the session the standard way (Python's client reads it).
    headers.set(HEADER.STANDARD_SESSION_ID, envelope.sessionId);
  }
  if (envelope.clientId) headers.set(HEADER.CLIENT_ID, envelope.clientId);
  if (envelope.protocolVersion) headers.set(HEADER.PROTOCOL_VERSION, envelope.protocolVersion);
  const id = requestIdOf(message);
  if (id !== undefined) headers.set(HEADER.REQUEST_ID, String(id));
  const method = methodOf(message);
  if (method !== undefined) headers.set(HEADER.METHOD, method);
  return { body: JSON.stringify(message), headers };
}

/**
 * Reads an HTTP body and its headers back into an envelope (or the error that answers a malformed
 * one). Accepts `Mcp-Session-Id` and `MCP-Protocol-Version` where the `X-` headers are absent.
 *
 * @example
 * ```ts
 * import { decodeHeaders } from "@asyncmcp/asyncmcp/session";
 *
 * const incoming = decodeHeaders('{"jsonrpc":"2.0","id":1,"method":"ping"}', new Headers({
 *   "Mcp-Session-Id": "abc",
 * }));
 * if (incoming.ok) console.log(incoming.envelope.sessionId); // "abc"
 * ```
 */
export function decodeHeaders(body: string, headers: Headers): Incoming {
  return toIncoming(parseJsonRpc(body), routingOfHeaders(headers));
}

/**
 * The routing facts an HTTP message's headers carry (see {@linkcode decodeHeaders}).
 *
 * @example
 * ```ts
 * import { routingOfHeaders } from "@asyncmcp/asyncmcp/session";
 *
 * console.log(routingOfHeaders(new Headers({ "X-Client-ID": "c1" })).clientId); // "c1"
 * ```
 */
export function routingOfHeaders(headers: Headers): Routing {
  const value = (name: string, standard?: string) =>
    headers.get(name) || (standard ? headers.get(standard) : null) || undefined;
  const routing: Routing = {};
  const sessionId = value(HEADER.SESSION_ID, HEADER.STANDARD_SESSION_ID);
  if (sessionId !== undefined) routing.sessionId = sessionId;
  const clientId = value(HEADER.CLIENT_ID);
  if (clientId !== undefined) routing.clientId = clientId;
  const protocolVersion = value(HEADER.PROTOCOL_VERSION, HEADER.STANDARD_PROTOCOL_VERSION);
  if (protocolVersion !== undefined) routing.protocolVersion = protocolVersion;
  return routing;
}

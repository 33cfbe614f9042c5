import assert from "node:assert/strict";
import {
  decodeAttributes,
  decodeHeaders,
  encodeAttributes,
  encodedSize,
  encodeHeaders,
} from "../session/envelope_codec.ts";
import { parseJsonRpc } from "../session/envelope.ts";

Deno.test("encodeAttributes() names a request's method and id and marks it as JSON-RPC", () => {
  const { body, attributes } = encodeAttributes({
    message: { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "echo" } },
    sessionId: "s1",
    clientId: "c1",
    protocolVersion: "2025-11-25",
    timestamp: 1_700_000_000,
  });
  assert.deepEqual(JSON.parse(body), {
    jsonrpc: "2.0",
    id: 7,
    method: "tools/call",
    params: { name: "echo" },
  });
  assert.deepEqual(attributes, {
    MessageType: { DataType: "String", StringValue: "jsonrpc" },
    Timestamp: { DataType: "Number", StringValue: "1700000000" },
    SessionId: { DataType: "String", StringValue: "s1" },
    ClientId: { DataType: "String", StringValue: "c1" },
    RequestId: { DataType: "String", StringValue: "7" },
    Method: { DataType: "String", StringValue: "tools/call" },
    ProtocolVersion: { DataType: "String", StringValue: "2025-11-25" },
  });
});

Deno.test("encodeAttributes() gives a response neither Method nor RequestId", () => {
  const { attributes } = encodeAttributes({ message: { jsonrpc: "2.0", id: 1, result: {} } });
  assert.equal(attributes.Method, undefined);
  assert.equal(attributes.RequestId, undefined);
  assert.equal(Object.keys(attributes).length, 2);
});

Deno.test("decodeAttributes() reads back what encodeAttributes() wrote", () => {
  const envelope = {
    message: { jsonrpc: "2.0" as const, method: "notifications/progress", params: { progress: 1 } },
    sessionId: "s",
    clientId: "c",
    protocolVersion: "2025-06-18",
    timestamp: 1234,
  };
  const { body, attributes } = encodeAttributes(envelope);
  assert.deepEqual(decodeAttributes(body, attributes), { ok: true, envelope });
});

Deno.test("decodeAttributes() keeps the routing facts of a body it cannot parse", () => {
  const incoming = decodeAttributes("nope", {
    SessionId: { StringValue: "s" },
    ClientId: { StringValue: "c" },
  });
  assert.equal(incoming.ok, false);
  if (incoming.ok) return;
  assert.equal(incoming.invalid.sessionId, "s");
  assert.equal(incoming.invalid.clientId, "c");
  assert.equal(incoming.invalid.error.code, -32700);
});

Deno.test("encodedSize() counts UTF-8 bytes of the body and every attribute", () => {
  const { body, attributes } = encodeAttributes({
    message: { jsonrpc: "2.0", method: "é" },
    timestamp: 1,
  });
  const expected = new TextEncoder().encode(body).length +
    "MessageType".length + "String".length + "jsonrpc".length +
    "Timestamp".length + "Number".length + 1 +
    "Method".length + "String".length + 2;
  assert.equal(encodedSize(body, attributes), expected);
});

Deno.test("parseJsonRpc() accepts an error response whose id is null", () => {
  const parsed = parseJsonRpc('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}');
  assert.equal(parsed.ok, true);
});

Deno.test("parseJsonRpc() refuses a request whose id is an object", () => {
  const parsed = parseJsonRpc('{"jsonrpc":"2.0","id":{},"method":"ping"}');
  assert.equal(parsed.ok, false);
  if (!parsed.ok) assert.equal(parsed.error.code, -32600);
});

Deno.test("parseJsonRpc() refuses a response with neither result nor error", () => {
  const parsed = parseJsonRpc('{"jsonrpc":"2.0","id":1}');
  assert.equal(parsed.ok, false);
  if (!parsed.ok) assert.equal(parsed.id, 1);
});

Deno.test("parseJsonRpc() refuses params that are not structured", () => {
  const parsed = parseJsonRpc('{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}');
  assert.equal(parsed.ok, false);
});

Deno.test("encodeHeaders() names session, client, protocol version, request id and method", () => {
  const { body, headers } = encodeHeaders({
    message: { jsonrpc: "2.0", id: 9, method: "tools/call" },
    sessionId: "s",
    clientId: "c",
    protocolVersion: "2025-11-25",
  });
  assert.equal(JSON.parse(body).id, 9);
  assert.deepEqual(Object.fromEntries(headers), {
    "content-type": "application/json",
    "mcp-session-id": "s",
    "x-client-id": "c",
    "x-method": "tools/call",
    "x-protocol-version": "2025-11-25",
    "x-request-id": "9",
    "x-session-id": "s",
  });
});

Deno.test("decodeHeaders() accepts the standard Mcp-Session-Id and MCP-Protocol-Version spellings", () => {
  const incoming = decodeHeaders(
    '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    new Headers({
      "Mcp-Session-Id": "s",
      "MCP-Protocol-Version": "2025-06-18",
      "X-Client-ID": "c",
    }),
  );
  assert.ok(incoming.ok);
  if (incoming.ok) {
    assert.equal(incoming.envelope.sessionId, "s");
    assert.equal(incoming.envelope.protocolVersion, "2025-06-18");
    assert.equal(incoming.envelope.clientId, "c");
  }
});

Deno.test("decodeHeaders() prefers the X- headers the Python peers send", () => {
  const incoming = decodeHeaders(
    '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    new Headers({ "X-Session-ID": "python", "Mcp-Session-Id": "standard" }),
  );
  assert.ok(incoming.ok && incoming.envelope.sessionId === "python");
});

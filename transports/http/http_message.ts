/**
 * Reading one JSON-RPC message from an HTTP request, and answering with a JSON-RPC error: the
 * steps the webhook server and the webhook receiver share.
 *
 * @module
 */

import { errorResponse, JSONRPC_ERROR, type JsonRpcErrorObject } from "../../session/envelope.ts";
import type { RequestId } from "../../sdk.ts";

/** What {@linkcode readMessageBody} returns: the body text, or the response that refuses it. */
export type BodyResult = { ok: true; body: string } | { ok: false; response: Response };

/**
 * Reads a POST's body as UTF-8 text after checking its content type and size; a refusal comes
 * back as the HTTP response to send (415, 413 or 400) with a JSON-RPC error body.
 *
 * @example
 * ```ts
 * import { readMessageBody } from "./http_message.ts";
 *
 * const request = new Request("http://127.0.0.1/", {
 *   method: "POST",
 *   headers: { "Content-Type": "text/plain" },
 *   body: "hi",
 * });
 * const result = await readMessageBody(request, 1024);
 * if (!result.ok) console.log(result.response.status); // 415
 * ```
 */
export async function readMessageBody(request: Request, maxBytes: number): Promise<BodyResult> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type.trim())) {
    await request.body?.cancel();
    return refused(415, {
      code: JSONRPC_ERROR.INVALID_REQUEST,
      message: `Unsupported content type '${type}': send the message as application/json`,
    });
  }
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    await request.body?.cancel();
    return tooLarge(maxBytes);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      // The declared length may be absent or wrong: count what actually arrives.
      if (size > maxBytes) {
        await reader.cancel();
        return tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return { ok: true, body: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return refused(400, {
      code: JSONRPC_ERROR.PARSE_ERROR,
      message: "Parse error: the body is not valid UTF-8",
    });
  }
}

/**
 * The HTTP status that carries a JSON-RPC error: 404 for an unknown session, 403 for a session
 * of another principal, 503 for a server
 * that cannot take the message now, 500 for its own failures, 400 for everything the sender got
 * wrong.
 *
 * @example
 * ```ts
 * import { statusOf } from "./http_message.ts";
 *
 * console.log(statusOf({ code: -32001, message: "Session not found" })); // 404
 * ```
 */
export function statusOf(error: JsonRpcErrorObject): number {
  switch (error.code) {
    case JSONRPC_ERROR.SESSION_NOT_FOUND:
      return 404;
    case JSONRPC_ERROR.FORBIDDEN:
      return 403;
    case JSONRPC_ERROR.SERVER_BUSY:
      return 503;
    case JSONRPC_ERROR.INTERNAL_ERROR:
      return 500;
    default:
      return 400;
  }
}

/**
 * A response whose body is the JSON-RPC error answering request `id`.
 *
 * @example
 * ```ts
 * import { jsonRpcErrorResponse } from "./http_message.ts";
 *
 * const response = jsonRpcErrorResponse(405, { code: -32600, message: "Use POST" });
 * console.log(response.status); // 405
 * ```
 */
export function jsonRpcErrorResponse(
  status: number,
  error: JsonRpcErrorObject,
  id: RequestId | null = null,
  headers: HeadersInit = {},
): Response {
  return Response.json(errorResponse(id, error), { status, headers });
}

function refused(status: number, error: JsonRpcErrorObject): BodyResult {
  return { ok: false, response: jsonRpcErrorResponse(status, error) };
}

function tooLarge(maxBytes: number): BodyResult {
  return refused(413, {
    code: JSONRPC_ERROR.INVALID_REQUEST,
    message: `Message too large: the limit is ${maxBytes} bytes; send less data or a link to it`,
  });
}

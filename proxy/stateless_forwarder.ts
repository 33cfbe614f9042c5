/**
 * The proxy's Streamable HTTP front for stateless 2026-07-28 requests: each POST becomes one
 * back-end request over its own short-lived client transport (its own client id on the shared
 * reply channel, so everything the server sends for it comes back to it), answered on the POST's
 * event stream or as JSON; a refusal of the protocol layer comes back with the HTTP status the
 * 2026-07-28 binding gives it. Nothing about a client outlives its request.
 *
 * @module
 */

import { classifyInboundRequest } from "@modelcontextprotocol/server";
import type { JSONRPCMessage, RequestId, Transport } from "../sdk.ts";
import {
  errorResponse,
  isResponse,
  JSONRPC_ERROR,
  type JsonRpcErrorObject,
  modernRevisionOf,
  requestIdOf,
} from "../session/envelope.ts";
import { HEADER } from "../session/envelope_codec.ts";
import { describeError, type Logger } from "../session/logger.ts";
import { jsonRpcErrorResponse } from "../transports/http/http_message.ts";
import { refusalStatus, standardHeaderRefusal } from "./modern_http_binding.ts";
import { promiseWithResolvers } from "../session/runtime.ts";

/** What {@linkcode StatelessForwarder} needs from its proxy. */
export interface StatelessForwarderOptions {
  /** Makes a back-end client transport; one is made per request and closed after it. */
  backend: () => Transport | Promise<Transport>;
  /** A request the back end has not answered after this long gets an error, in ms. */
  requestTimeoutMs: number;
  /** Where events are logged. */
  logger: Logger;
}

/** Forwards stateless POSTs (see the module documentation). */
export class StatelessForwarder {
  readonly #options: StatelessForwarderOptions;
  /** How to end each request in flight: closing waits for every back end to close. */
  readonly #inFlight = new Set<() => Promise<void>>();
  #closed = false;

  /** Creates the forwarder of one proxy. */
  constructor(options: StatelessForwarderOptions) {
    this.#options = options;
  }

  /** Answers one stateless POST whose body was already read and parsed. */
  async fetch(request: Request, body: unknown): Promise<Response> {
    const headers = request.headers;
    const outcome = classifyInboundRequest({
      httpMethod: "POST",
      protocolVersionHeader: headers.get(HEADER.STANDARD_PROTOCOL_VERSION) ?? undefined,
      mcpMethodHeader: headers.get("mcp-method") ?? undefined,
      mcpNameHeader: headers.get("mcp-name") ?? undefined,
      body,
    });
    const id = idOf(body);
    if (outcome.kind === "reject") {
      return jsonRpcErrorResponse(outcome.httpStatus, {
        code: outcome.code,
        message: outcome.message,
        data: outcome.data,
      }, id);
    }
    if (outcome.kind !== "modern") {
      return jsonRpcErrorResponse(400, {
        code: JSONRPC_ERROR.INVALID_REQUEST,
        message: "Invalid request: expected a 2026-07-28 request",
      }, id);
    }
    const message = outcome.message as JSONRPCMessage;
    if (outcome.messageKind === "notification") {
      // A stateless notification (a cancellation travels as the aborted request instead).
      await this.#notify(message);
      return new Response(null, { status: 202 });
    }
    const mismatch = standardHeaderRefusal(headers, message);
    if (mismatch) return jsonRpcErrorResponse(400, mismatch, id);
    const stream = accepts(headers, "text/event-stream");
    if (!stream && !accepts(headers, "application/json")) {
      return jsonRpcErrorResponse(406, {
        code: JSONRPC_ERROR.SERVER_BUSY,
        message: "Not Acceptable: accept application/json or text/event-stream",
      }, id);
    }
    return await this.#forward(message, request.signal, stream);
  }

  /**
   * Ends every request in flight (each gets an error answer, its back-end transport closes) and
   * refuses new ones; resolves once every back-end transport is closed.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#inFlight].map((end) => end()));
  }

  async #notify(message: JSONRPCMessage): Promise<void> {
    const back = await this.#options.backend();
    const sent = (async () => {
      try {
        await back.start();
        await back.send(message);
      } finally {
        await back.close();
      }
    })();
    const end = () => sent.catch(() => {});
    this.#inFlight.add(end);
    try {
      await sent;
    } finally {
      this.#inFlight.delete(end);
    }
  }

  /**
   * Sends `message` on a transport of its own and answers with what comes back: every message
   * as an event while `stream`, else the answer alone as JSON.
   */
  async #forward(message: JSONRPCMessage, signal: AbortSignal, stream: boolean): Promise<Response> {
    const id = requestIdOf(message)!;
    if (this.#closed) {
      return jsonRpcErrorResponse(
        503,
        {
          code: JSONRPC_ERROR.SERVER_BUSY,
          message: "Cannot forward request as the proxy is closing: retry on another instance",
        },
        id,
        { "Retry-After": "1" },
      );
    }
    let back: Transport | undefined;
    try {
      back = await this.#options.backend();
      await back.start();
    } catch (error) {
      await back?.close().catch(() => {});
      return jsonRpcErrorResponse(503, unreachable(error), id, { "Retry-After": "1" });
    }
    const backEnd = back;
    const { readable, writable } = new TransformStream<JSONRPCMessage, Uint8Array>({
      transform: (sent, controller) => {
        controller.enqueue(encoder.encode(`event: message\ndata: ${JSON.stringify(sent)}\n\n`));
      },
    });
    const writer = writable.getWriter();
    const answered = promiseWithResolvers<JSONRPCMessage>();
    // What comes first decides the response's status (undefined: it ended with nothing).
    const first = promiseWithResolvers<JSONRPCMessage | undefined>();
    let done = false;
    let finished: Promise<void> | undefined;
    const finish = (answer?: JSONRPCMessage): Promise<void> =>
      finished ??= (async () => {
        done = true;
        clearTimeout(timer);
        signal.removeEventListener("abort", cancel);
        first.resolve(answer);
        if (answer) {
          answered.resolve(answer);
          if (stream) await writer.write(answer).catch(() => {});
        }
        await writer.close().catch(() => {});
        await backEnd.close().catch(() => {});
        this.#inFlight.delete(end);
      })();
    let cancelling: Promise<void> | undefined;
    /** Tells the server to stop, then ends the request with `answer` (if any). */
    const stop = (reason: string, answer?: JSONRPCMessage) =>
      cancelling ??= backEnd.send(cancellation(message, id, reason)).catch(() => {}).finally(() =>
        finish(answer)
      );
    // The client went away: nothing is answered.
    const cancel = () => void stop("the client went away");
    const end = () =>
      stop(
        "the proxy is closing",
        errorResponse(id, {
          code: JSONRPC_ERROR.SERVER_BUSY,
          message: "Request ended as the proxy is closing: send it again",
        }),
      );
    this.#inFlight.add(end);
    const timer = setTimeout(() => {
      this.#options.logger.log("warn", "proxy.request_timeout", {
        id,
        timeoutMs: this.#options.requestTimeoutMs,
      });
      finish(errorResponse(id, {
        code: JSONRPC_ERROR.SERVER_BUSY,
        message: `Request timed out: the server behind the proxy did not answer in ` +
          `${this.#options.requestTimeoutMs} ms; retry later`,
      }));
    }, this.#options.requestTimeoutMs);
    backEnd.onmessage = (sent) => {
      first.resolve(sent);
      if (isAnswerTo(sent, id)) {
        void finish(sent);
      } else if (stream && !done) {
        writer.write(sent).catch(() => {});
      }
    };
    backEnd.onerror = (error) =>
      this.#options.logger.log("debug", "proxy.back_error", { error: describeError(error) });
    backEnd.onclose = () => void finish();
    signal.addEventListener("abort", cancel, { once: true });
    const revision = modernRevisionOf(message);
    if (revision) backEnd.setProtocolVersion?.(revision);
    try {
      await backEnd.send(message);
    } catch (error) {
      // Not awaited: on a stream, the answer is written once the client reads the response.
      void finish(errorResponse(id, unreachable(error)));
    }
    if (stream) {
      // A refusal that comes back before anything else is answered as JSON with the status the
      // binding gives it; otherwise the stream opens (at the latest after STATUS_WAIT_MS, so that
      // a long silent call is not left without response headers).
      const opening = await firstWithin(first.promise, STATUS_WAIT_MS);
      const status = opening && isAnswerTo(opening, id) ? refusalStatus(opening) : undefined;
      if (status !== undefined) {
        readable.cancel().catch(() => {});
        return Response.json(opening, { status });
      }
      return new Response(readable, {
        headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" },
      });
    }
    const answer = await Promise.race([
      answered.promise,
      new Promise<undefined>((resolve) => {
        // Ended without an answer (cancelled, or the back end closed).
        readable.pipeTo(new WritableStream()).finally(() => resolve(undefined));
      }),
    ]);
    if (!answer) return new Response(null, { status: 499 });
    return Response.json(answer, { status: refusalStatus(answer) ?? 200 });
  }
}

const encoder = new TextEncoder();
/**
 * How long a streamed response waits for the server's first message before it opens: a refusal
 * (an unknown method, an undeclared capability) comes back within a round trip and gets its HTTP
 * status only while no response has started.
 */
const STATUS_WAIT_MS = 1000;

/** `message`, or undefined once `ms` have passed without it. */
async function firstWithin<T>(message: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      message,
      new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function isAnswerTo(message: JSONRPCMessage, id: RequestId): boolean {
  return isResponse(message) && (message as { id: RequestId }).id === id;
}

/** The cancellation of `message`, with the same envelope (stateless notifications carry it). */
function cancellation(message: JSONRPCMessage, id: RequestId, reason: string): JSONRPCMessage {
  const meta = (message as { params?: { _meta?: Record<string, unknown> } }).params?._meta;
  return {
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId: id, reason, ...(meta ? { _meta: meta } : {}) },
  } as JSONRPCMessage;
}

function unreachable(error: unknown): JsonRpcErrorObject {
  return {
    code: JSONRPC_ERROR.SERVER_BUSY,
    message: `Cannot reach the server behind the proxy: ${describeError(error)}`,
  };
}

function accepts(headers: Headers, type: string): boolean {
  return (headers.get("accept") ?? "").includes(type);
}

function idOf(body: unknown): RequestId | null {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === "string" || Number.isSafeInteger(id) ? id as RequestId : null;
}

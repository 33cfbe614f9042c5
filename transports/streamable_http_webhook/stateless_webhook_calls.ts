/**
 * StreamableHTTP+Webhook for stateless 2026-07-28 requests: served by the SDK v2's own HTTP entry
 * (`createMcpHandler`, a fresh server per request), with the calls of webhook tools answered at
 * the webhook each request names in `params._meta` rather than on its HTTP response.
 *
 * @module
 */

import {
  createMcpHandler,
  type McpHttpHandler,
  type ServerEventBus,
} from "@modelcontextprotocol/server";
import type { JSONRPCMessage } from "../../sdk.ts";
import { JSONRPC_ERROR, methodOf, requestIdOf } from "../../session/envelope.ts";
import { HEADER } from "../../session/envelope_codec.ts";
import { describeError, type Logger } from "../../session/logger.ts";
import { metaOf, withoutReturnAddress } from "../../session/return_address.ts";
import { legacyOnlyError, servesBothEras } from "../../session/server_eras.ts";
import type { ConnectableServer } from "../../session/session_host.ts";
import { jsonRpcErrorResponse } from "../http/http_message.ts";
import type { WebhookOutbox } from "../webhook/webhook_outbox.ts";
import { WEBHOOK_RETURN_ADDRESS } from "../webhook/webhook_server.ts";
import { markedTools, withWebhookMarks } from "./webhook_tool_marks.ts";

/** What {@linkcode StatelessWebhookCalls} needs from its server. */
export interface StatelessWebhookCallsOptions {
  /** Builds the MCP server (SDK v2) that serves one request. */
  createServer: (context: { era: "modern" }) => ConnectableServer | Promise<ConnectableServer>;
  /** Tools answered by webhook besides those marked in their definition. */
  webhookTools: ReadonlySet<string>;
  /** Checks a webhook URL and its secret; a string says why they cannot be used. */
  checkWebhook: (url: string, secret: string | undefined) => Promise<string | undefined>;
  /** Delivers to webhooks. */
  outbox: WebhookOutbox;
  /** Where list and resource changes are announced to `subscriptions/listen` streams. */
  bus?: ServerEventBus;
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** Where events are logged. */
  logger: Logger;
}

/** How long the marked tools learned from the server's own tools/list are trusted, in ms. */
const MARKS_TTL_MS = 60_000;

/** Serves stateless POSTs of the hybrid server (see the module documentation). */
export class StatelessWebhookCalls {
  readonly #options: StatelessWebhookCallsOptions;
  /**
   * Serves what is answered on the HTTP response, as the SDK's entry does by default: a response
   * whose first message is the answer is JSON, with the binding's HTTP status for a refusal
   * (-32021 from the input_required gate comes after dispatch, and so on a stream if one opened).
   */
  readonly #handler: McpHttpHandler;
  /**
   * Serves what is answered at the webhook and what is read here: a stream from the start, so
   * that a webhook call's exchange can end at once.
   */
  readonly #streaming: McpHttpHandler;
  #marks?: { tools: Promise<ReadonlySet<string>>; until: number };
  /** Whether `createServer` builds SDK v2 servers, once a first one told. */
  #modern?: Promise<boolean>;

  /** Creates the stateless side of a hybrid server. */
  constructor(options: StatelessWebhookCallsOptions) {
    this.#options = options;
    const handler = (responseMode: "auto" | "sse") =>
      createMcpHandler(
        () => options.createServer({ era: "modern" }) as never,
        {
          legacy: "reject",
          // Both hold listen streams on the same bus (in practice only `#handler` serves them).
          bus: options.bus,
          responseMode,
          maxRequestBodySize: options.maxBodyBytes,
          onerror: (error) =>
            options.logger.log("debug", "stateless.refused", { error: describeError(error) }),
        },
      );
    this.#handler = handler("auto");
    this.#streaming = handler("sse");
  }

  /** Answers one stateless POST whose body was already read and parsed. */
  async fetch(request: Request, body: unknown): Promise<Response> {
    if (!await this.#servesModern()) {
      // An SDK v1 server: the client falls back to a 2025-11-25 session.
      const message = body as JSONRPCMessage;
      return jsonRpcErrorResponse(400, legacyOnlyError(message), requestIdOf(message) ?? null);
    }
    const meta = metaOf(body);
    const webhookUrl = meta?.[WEBHOOK_RETURN_ADDRESS.meta];
    const secret = meta?.[WEBHOOK_RETURN_ADDRESS.secret];
    const message = withoutReturnAddress(body, WEBHOOK_RETURN_ADDRESS);
    if (methodOf(message as JSONRPCMessage) === "tools/list") {
      return await this.#listTools(request, message);
    }
    if (typeof webhookUrl !== "string" || webhookUrl === "") {
      return await this.#handler.fetch(request, { parsedBody: message });
    }
    const id = requestIdOf(message as JSONRPCMessage) ?? null;
    const refusal = await this.#options.checkWebhook(
      webhookUrl,
      typeof secret === "string" ? secret : undefined,
    );
    if (refusal) {
      return jsonRpcErrorResponse(
        400,
        { code: JSONRPC_ERROR.INVALID_PARAMS, message: refusal },
        id,
      );
    }
    if (!await this.#answersByWebhook(request, message)) {
      return await this.#handler.fetch(request, { parsedBody: message });
    }
    // Served apart from the client's own exchange, which ends at once: its abort must not
    // cancel the call whose answer the webhook waits for.
    const detached = new Request(request.url, { method: "POST", headers: request.headers });
    const served = await this.#streaming.fetch(detached, { parsedBody: message });
    if (!served.ok || !served.body) return served;
    void this.#deliver(served.body, webhookUrl, {
      clientId: request.headers.get(HEADER.CLIENT_ID) ?? undefined,
      secret: typeof secret === "string" ? secret : undefined,
    });
    return new Response(": the result of this call is delivered to the webhook\n\n", {
      headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" },
    });
  }

  /** Serves tools/list, with the tools named in `webhookTools` marked as the session's are. */
  async #listTools(request: Request, message: unknown): Promise<Response> {
    const served = await this.#handler.fetch(request, { parsedBody: message });
    const { webhookTools } = this.#options;
    if (!served.ok || !served.body || webhookTools.size === 0) return served;
    const headers = new Headers(served.headers);
    headers.delete("Content-Length");
    if (!(headers.get("Content-Type") ?? "").includes("text/event-stream")) {
      const answer = await served.json() as JSONRPCMessage;
      return Response.json(withWebhookMarks(answer, webhookTools), {
        status: served.status,
        headers,
      });
    }
    const events = eventMessages(served.body);
    const marked = ReadableStream.from((async function* () {
      for await (const sent of events) {
        const data = JSON.stringify(withWebhookMarks(sent, webhookTools));
        yield encoder.encode(`event: message\ndata: ${data}\n\n`);
      }
    })());
    return new Response(marked, { status: served.status, headers });
  }

  #servesModern(): Promise<boolean> {
    if (this.#modern) return this.#modern;
    const asked = this.#modern = (async () => {
      const server = await this.#options.createServer({ era: "modern" });
      await server.close().catch(() => {});
      return servesBothEras(server);
    })();
    // A factory that failed once is asked again by the next request, not held to its failure.
    asked.catch(() => {
      if (this.#modern === asked) this.#modern = undefined;
    });
    return asked;
  }

  /** Ends the requests still being served. */
  async close(): Promise<void> {
    await Promise.all([this.#handler.close(), this.#streaming.close()]);
  }

  /** Sends every message of a served exchange's event stream to the webhook, in order. */
  async #deliver(
    stream: ReadableStream<Uint8Array>,
    webhookUrl: string,
    to: { clientId?: string; secret?: string },
  ): Promise<void> {
    try {
      for await (const message of eventMessages(stream)) {
        await this.#options.outbox.send(webhookUrl, { message, clientId: to.clientId }, {
          secret: to.secret,
        }).catch(() => {
          // The outbox logged it and handed it to onDeliveryFailure.
        });
      }
    } catch (error) {
      this.#options.logger.log("warn", "stateless.delivery_stream_failed", {
        error: describeError(error),
      });
    }
  }

  /** Whether `message` is a call of a tool answered by webhook (named, or marked). */
  async #answersByWebhook(request: Request, message: unknown): Promise<boolean> {
    if (methodOf(message as JSONRPCMessage) !== "tools/call") return false;
    const name = (message as { params?: { name?: unknown } }).params?.name;
    if (typeof name !== "string") return false;
    if (this.#options.webhookTools.has(name)) return true;
    return (await this.#markedTools(request, message)).has(name);
  }

  /** Tools whose definition marks them for webhook delivery, listed from the server itself. */
  #markedTools(request: Request, message: unknown): Promise<ReadonlySet<string>> {
    const now = Date.now();
    if (this.#marks && this.#marks.until > now) return this.#marks.tools;
    const tools = this.#listMarked(request, message).catch((error) => {
      this.#options.logger.log("warn", "stateless.tools_unlisted", { error: describeError(error) });
      this.#marks = undefined;
      return new Set<string>();
    });
    this.#marks = { tools, until: now + MARKS_TTL_MS };
    return tools;
  }

  async #listMarked(request: Request, message: unknown): Promise<ReadonlySet<string>> {
    const marked = new Set<string>();
    const meta = metaOf(message) ?? {};
    let cursor: string | undefined;
    do {
      const headers = new Headers(request.headers);
      headers.set("Mcp-Method", "tools/list");
      headers.delete("Mcp-Name");
      headers.set("Accept", "application/json, text/event-stream");
      const listing = await this.#streaming.fetch(
        new Request(request.url, { method: "POST", headers }),
        {
          parsedBody: {
            jsonrpc: "2.0",
            id: "asyncmcp-marks",
            method: "tools/list",
            params: { ...(cursor ? { cursor } : {}), _meta: meta },
          },
        },
      );
      if (!listing.body) break;
      let answer: JSONRPCMessage | undefined;
      for await (const sent of eventMessages(listing.body)) if ("result" in sent) answer = sent;
      if (!answer) break;
      for (const name of markedTools(answer)) marked.add(name);
      cursor = (answer as { result: { nextCursor?: string } }).result.nextCursor;
    } while (cursor);
    return marked;
  }
}

const encoder = new TextEncoder();

/** The JSON-RPC messages of an event stream (`data:` lines), in order. */
async function* eventMessages(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<JSONRPCMessage> {
  let buffered = "";
  const decoded = stream.pipeThrough(new TextDecoderStream());
  for await (const chunk of decoded) {
    buffered += chunk.replaceAll("\r\n", "\n");
    let end: number;
    while ((end = buffered.indexOf("\n\n")) !== -1) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = event.split("\n").filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, "")).join("\n");
      if (data !== "") yield JSON.parse(data) as JSONRPCMessage;
    }
  }
}

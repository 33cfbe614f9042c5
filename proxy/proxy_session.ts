/**
 * One proxied session: every message of a front-end session (a standard MCP client's) passes to a
 * back-end session (a transport to a server behind a queue or webhooks) and back, at the message
 * level, so that requests both ways, notifications, cancellation and tasks all pass.
 *
 * @module
 */

import type { JSONRPCMessage, RequestId, Transport } from "../sdk.ts";
import {
  errorResponse,
  isResponse,
  JSONRPC_ERROR,
  methodOf,
  requestIdOf,
} from "../session/envelope.ts";
import { describeError, type Logger } from "../session/logger.ts";
import { promiseWithResolvers } from "../session/runtime.ts";

/** How long a proxy waits for the server behind it; both front ends take these. */
export interface ProxyWaitOptions {
  /**
   * A request the back end has not answered after this long gets a JSON-RPC error instead of
   * hanging, in ms. @default {300_000} (5 minutes)
   */
  requestTimeoutMs?: number;
  /**
   * `initialize` gets an error after this long instead (in ms): a server answers it at once, so a
   * silence this long means that none is there, and the client hears why before its own timeout
   * (the SDK's is 60 s). @default {30_000}
   */
  initializeTimeoutMs?: number;
  /** An `initialize` unanswered this long is logged as a warning, in ms. @default {5_000} */
  initializeWarningMs?: number;
  /**
   * What the back end sends to (a request queue URL, a topic ARN, a server URL), named in that
   * warning and error: "is a server reading <server>?".
   */
  server?: string;
}

/** Options for {@linkcode ProxySession}. */
export interface ProxySessionOptions extends ProxyWaitOptions {
  /**
   * Send the server's requests and notifications on the stream of a request the client is
   * waiting for, when there is one: the back end does not say which request they belong to, and
   * a client may not have opened its GET stream yet. Off for JSON responses, which carry nothing
   * but the answer. @default {true}
   */
  relateToPending?: boolean;
  /** Where events are logged. */
  logger: Logger;
}

/** A request forwarded to the back end and not answered yet. */
interface Pending {
  /** Its timeout, and for `initialize` the warning before it. */
  timers: ReturnType<typeof setTimeout>[];
  progressToken?: string | number;
}

/**
 * Joins a front-end transport (facing the client) to a back-end transport (facing the server):
 * what one receives, the other sends. Either side closing closes the other.
 *
 * @example Put an SQS server behind an in-memory front end
 * ```ts ignore
 * import { InMemoryTransport } from "@asyncmcp/asyncmcp/sdk";
 * import { ProxySession } from "@asyncmcp/asyncmcp/proxy";
 * import { SqsClientTransport } from "@asyncmcp/asyncmcp/sqs";
 * import { consoleLogger } from "@asyncmcp/asyncmcp/session";
 *
 * const [front, client] = InMemoryTransport.createLinkedPair();
 * const back = new SqsClientTransport({ sqs, requestQueueUrl, responseQueueUrl });
 * await new ProxySession(front, back, { logger: consoleLogger() }).start();
 * ```
 */
export class ProxySession {
  readonly #front: Transport;
  readonly #back: Transport;
  readonly #requestTimeoutMs: number;
  readonly #initializeTimeoutMs: number;
  readonly #initializeWarningMs: number;
  readonly #server?: string;
  readonly #relateToPending: boolean;
  readonly #logger: Logger;
  /** Client requests the back end has not answered, by id. */
  readonly #pending = new Map<RequestId, Pending>();
  /** Which client request a progress token belongs to, so progress goes on that request's stream. */
  readonly #progress = new Map<string | number, RequestId>();
  #closing?: Promise<void>;
  readonly #closed = promiseWithResolvers<void>();
  /** Sides that reported their own close (onclose), so they are not closed again. */
  readonly #sidesClosed = new Set<Transport>();

  /** Joins `front` and `back`; nothing flows until {@linkcode ProxySession.start}. */
  constructor(front: Transport, back: Transport, options: ProxySessionOptions) {
    this.#front = front;
    this.#back = back;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 300_000;
    this.#initializeTimeoutMs = options.initializeTimeoutMs ?? 30_000;
    this.#initializeWarningMs = options.initializeWarningMs ?? 5_000;
    this.#server = options.server;
    this.#relateToPending = options.relateToPending ?? true;
    this.#logger = options.logger;
    front.onmessage = (message) => this.#fromClient(message);
    back.onmessage = (message) => this.#fromServer(message);
    front.onclose = () => void this.#sideClosed(front);
    back.onclose = () => void this.#sideClosed(back);
    front.onerror = (error) =>
      this.#logger.log("debug", "proxy.front_error", { error: describeError(error) });
    back.onerror = (error) =>
      this.#logger.log("warn", "proxy.back_error", { error: describeError(error) });
  }

  /** Resolves once both sides are closed, whichever side began. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /** Starts the back end, then the front end. */
  async start(): Promise<void> {
    await this.#back.start();
    await this.#front.start();
  }

  /**
   * Fails what is pending and closes both sides, each at most once. Idempotent and re-entrant: a
   * side's `onclose` may call it again while it runs (the SDK's stdio transport does).
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    // Recorded before either side is touched: their onclose handlers come straight back here.
    this.#closing = this.#closed.promise;
    for (const [id, pending] of this.#pending) {
      pending.timers.forEach(clearTimeout);
      this.#pending.delete(id);
    }
    const open = [this.#back, this.#front].filter((side) => !this.#sidesClosed.has(side));
    // An async wrapper turns a close() that throws into a rejection (Node 20 has no Promise.try).
    void Promise.allSettled(open.map(async (side) => await side.close()))
      .then(() => this.#closed.resolve());
    return this.#closing;
  }

  #sideClosed(side: Transport): Promise<void> {
    this.#sidesClosed.add(side);
    return this.close();
  }

  #fromClient(message: JSONRPCMessage): void {
    const id = requestIdOf(message);
    if (id !== undefined) this.#track(id, message);
    this.#back.send(message).catch((error) => {
      this.#logger.log("warn", "proxy.forward_failed", { id, error: describeError(error) });
      if (id !== undefined) {
        this.#answer(id, {
          code: JSONRPC_ERROR.SERVER_BUSY,
          message: `Cannot reach the server behind the proxy: ${describeError(error)}`,
        });
      }
    });
  }

  #fromServer(message: JSONRPCMessage): void {
    let relatedRequestId: RequestId | undefined;
    if (isResponse(message)) {
      const id = (message as { id: RequestId }).id;
      if (!this.#settle(id)) {
        // Already answered with a timeout: the client has moved on.
        this.#logger.log("info", "proxy.late_answer", { id });
        return;
      }
    } else {
      const token = (message as { params?: { progressToken?: string | number } }).params
        ?.progressToken;
      if (token !== undefined) relatedRequestId = this.#progress.get(token);
      if (relatedRequestId === undefined && this.#relateToPending) {
        relatedRequestId = this.#pending.keys().next().value;
      }
    }
    this.#front.send(message, { relatedRequestId }).catch((error) => {
      this.#logger.log("warn", "proxy.reply_failed", { error: describeError(error) });
    });
  }

  #track(id: RequestId, message: JSONRPCMessage): void {
    const progressToken = (message as { params?: { _meta?: { progressToken?: string | number } } })
      .params?._meta?.progressToken;
    if (progressToken !== undefined) this.#progress.set(progressToken, id);
    const initialize = methodOf(message) === "initialize";
    const timeoutMs = initialize ? this.#initializeTimeoutMs : this.#requestTimeoutMs;
    const hint = `is a server reading ${this.#server ?? "the back end's address"}?`;
    const timers = [setTimeout(() => {
      this.#logger.log("warn", "proxy.request_timeout", { id, timeoutMs });
      this.#answer(id, {
        code: JSONRPC_ERROR.SERVER_BUSY,
        message: initialize
          ? `No answer to initialize in ${timeoutMs} ms from the server behind the proxy: ${hint}`
          : `Request timed out: the server behind the proxy did not answer in ${timeoutMs} ms; retry later`,
      });
    }, timeoutMs)];
    if (initialize && this.#initializeWarningMs < timeoutMs) {
      timers.push(setTimeout(() => {
        this.#logger.log("warn", "proxy.initialize_unanswered", {
          waitedMs: this.#initializeWarningMs,
          server: this.#server,
          hint,
        });
      }, this.#initializeWarningMs));
    }
    this.#pending.set(id, { timers, progressToken });
  }

  /** Forgets a pending request; false when it was not pending. */
  #settle(id: RequestId): boolean {
    const pending = this.#pending.get(id);
    if (!pending) return false;
    pending.timers.forEach(clearTimeout);
    this.#pending.delete(id);
    if (pending.progressToken !== undefined) this.#progress.delete(pending.progressToken);
    return true;
  }

  #answer(id: RequestId, error: { code: number; message: string }): void {
    if (!this.#settle(id)) return;
    this.#front.send(errorResponse(id, error)).catch((sendError) => {
      this.#logger.log("warn", "proxy.reply_failed", { id, error: describeError(sendError) });
    });
  }
}

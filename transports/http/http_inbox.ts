/**
 * An inbox fed by HTTP requests: each POSTed message becomes a delivery, and the way it is
 * settled becomes the HTTP response its sender waits for.
 *
 * @module
 */

import type { Envelope, Incoming } from "../../session/envelope.ts";
import { JSONRPC_ERROR, requestIdOf } from "../../session/envelope.ts";
import type { DeliveryHandler, Inbox, InboxDelivery } from "../../session/inbox.ts";
import { jsonRpcErrorResponse, statusOf } from "./http_message.ts";
import { promiseWithResolvers } from "../../session/runtime.ts";

/** Options for {@linkcode HttpInbox}. */
export interface HttpInboxOptions {
  /** The response to a message that was accepted (acknowledged). */
  acknowledge(envelope: Envelope, sessionId: string | undefined): Response;
  /**
   * The response to a message that was handed back unhandled.
   * @default 503 with `Retry-After` and a JSON-RPC error asking the sender to retry
   */
  released?(delaySeconds: number): Response;
}

/**
 * Turns HTTP requests into {@linkcode InboxDelivery}s. The sender waits for the outcome, so
 * requests are settled on receipt (`acksOnReceipt`) and refusals reach it as JSON-RPC errors in
 * the response. Used by the webhook server (client requests) and the webhook receiver (server
 * deliveries).
 *
 * @example
 * ```ts ignore
 * const inbox = new HttpInbox({ acknowledge: () => Response.json({ status: "received" }) });
 * await inbox.start((deliveries) => deliveries.forEach((delivery) => delivery.ack()));
 * const response = await inbox.deliver(incoming);
 * ```
 */
export class HttpInbox implements Inbox {
  /** HTTP senders wait for the acknowledgement: requests are settled when they arrive. */
  readonly acksOnReceipt = true;
  #options: HttpInboxOptions;
  #handler?: DeliveryHandler;
  #receiving = false;
  #closed = false;
  /** How to release each delivery not settled yet. */
  #unsettled = new Set<() => void>();

  /** Creates the inbox; it refuses messages until started. */
  constructor(options: HttpInboxOptions) {
    this.#options = options;
  }

  /** Starts handing messages to `handler`. Throws when called twice or after close. */
  start(handler: DeliveryHandler): Promise<void> {
    if (this.#handler || this.#closed) {
      throw new Error(
        "Cannot start HTTP inbox as it is already started or closed: create a new one",
      );
    }
    this.#handler = handler;
    this.#receiving = true;
    return Promise.resolve();
  }

  /** Refuses further messages with 503; deliveries already handed over can still be settled. */
  stop(): Promise<void> {
    this.#receiving = false;
    return Promise.resolve();
  }

  /** Stops receiving and answers every unsettled delivery as released. Idempotent. */
  close(): Promise<void> {
    this.#receiving = false;
    this.#closed = true;
    for (const release of [...this.#unsettled]) release();
    return Promise.resolve();
  }

  /**
   * Hands one message to the consumer and resolves with the response its settlement chose.
   * `principal` is who sent it, when the server authenticated the request.
   */
  deliver(incoming: Incoming, principal?: string): Promise<Response> {
    if (!this.#receiving || !this.#handler) {
      return Promise.resolve(
        jsonRpcErrorResponse(
          503,
          {
            code: JSONRPC_ERROR.SERVER_BUSY,
            message: "Cannot take message as the receiver is not running: retry shortly",
          },
          null,
          { "Retry-After": "1" },
        ),
      );
    }
    const { promise, resolve } = promiseWithResolvers<Response>();
    let settled = false;
    const release = () => settle(this.#released(1, incoming));
    const settle = (response: Response) => {
      if (settled) return;
      settled = true;
      this.#unsettled.delete(release);
      resolve(response);
    };
    this.#unsettled.add(release);
    const delivery: InboxDelivery = {
      incoming,
      messageId: crypto.randomUUID(),
      receiveCount: 1,
      sentAt: Date.now(),
      principal,
      ack: (sessionId) =>
        settle(
          incoming.ok
            ? this.#options.acknowledge(incoming.envelope, sessionId)
            : new Response(null, { status: 204 }),
        ),
      release: (delaySeconds = 0) => settle(this.#released(delaySeconds, incoming)),
      reject: () =>
        settle(jsonRpcErrorResponse(400, {
          code: JSONRPC_ERROR.INVALID_REQUEST,
          message: "Invalid request: the message cannot be handled here",
        })),
      refuse: (error, id) => settle(jsonRpcErrorResponse(statusOf(error), error, id)),
    };
    this.#handler([delivery]);
    return promise;
  }

  #released(delaySeconds: number, incoming: Incoming): Response {
    const id = incoming.ok ? requestIdOf(incoming.envelope.message) ?? null : incoming.invalid.id;
    return this.#options.released?.(delaySeconds) ??
      jsonRpcErrorResponse(
        503,
        {
          code: JSONRPC_ERROR.SERVER_BUSY,
          message: "Cannot handle message right now: send it again shortly",
        },
        id,
        { "Retry-After": String(Math.max(1, Math.ceil(delaySeconds))) },
      );
  }
}

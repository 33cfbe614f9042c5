/**
 * The requests a server is working on, and those it has answered recently: what keeps a
 * redelivered request from running twice and a dropped one from being held forever.
 *
 * @module
 */

import type { RequestId } from "../sdk.ts";
import { JSONRPC_ERROR, type JsonRpcErrorObject } from "./envelope.ts";
import type { InboxDelivery } from "./inbox.ts";

/** A request handed to an MCP server and not answered yet. */
export interface InFlightRequest {
  /** The request's JSON-RPC id. */
  readonly id: RequestId;
  /** The deliveries that carried it (a redelivery adds one); settled once it is answered. */
  deliveries: InboxDelivery[];
  /** When it is given up on and answered with an error, in epoch milliseconds. */
  readonly deadline: number;
}

/** How many answered request keys a ledger remembers by default, oldest forgotten first. */
const RECENT_ANSWERS = 512;

/**
 * One conversation's requests (a session's, or a client's stateless requests), by request key.
 * Counts every request it takes and lets go through `onCountChange`, so that a host can keep one
 * total across all its ledgers.
 */
export class RequestLedger {
  readonly #inFlight = new Map<string, InFlightRequest>();
  readonly #answered = new Set<string>();
  readonly #onCountChange: (delta: number) => void;
  readonly #recentAnswers: number;

  /**
   * Creates an empty ledger that reports each request it takes (+1) and lets go (-1), and
   * remembers the keys of the last `recentAnswers` answered requests.
   */
  constructor(onCountChange: (delta: number) => void, recentAnswers = RECENT_ANSWERS) {
    this.#onCountChange = onCountChange;
    this.#recentAnswers = recentAnswers;
  }

  /** Requests in flight. */
  get size(): number {
    return this.#inFlight.size;
  }

  /** Whether the request with this key was answered recently. */
  answered(key: string): boolean {
    return this.#answered.has(key);
  }

  /** The in-flight request with this key, if any. */
  get(key: string): InFlightRequest | undefined {
    return this.#inFlight.get(key);
  }

  /** Keys of every request in flight. */
  keys(): string[] {
    return [...this.#inFlight.keys()];
  }

  /** Records a request as in flight until `deadline` (epoch ms). */
  begin(key: string, id: RequestId, deliveries: InboxDelivery[], deadline: number): void {
    this.#inFlight.set(key, { id, deliveries, deadline });
    this.#onCountChange(1);
  }

  /**
   * Settles `delivery` if it carries a request this ledger knows (answered, or in flight: then it
   * joins the deliveries settled with the answer, or, when the source settles on receipt, is
   * acknowledged at once); returns whether it did. `sessionId` goes with an acknowledgement.
   */
  settleDuplicate(
    key: string,
    delivery: InboxDelivery,
    acksOnReceipt: boolean,
    sessionId?: string,
  ): "answered" | "in_flight" | undefined {
    if (this.#answered.has(key)) {
      delivery.ack(sessionId);
      return "answered";
    }
    const pending = this.#inFlight.get(key);
    if (!pending) return undefined;
    if (acksOnReceipt) delivery.ack(sessionId);
    else pending.deliveries.push(delivery);
    return "in_flight";
  }

  /**
   * Records a new request as in flight until `deadline`. When the source settles on receipt
   * (a FIFO queue withholds a group's next messages until this one is deleted, an HTTP sender
   * waits for its acknowledgement) the delivery is acknowledged now, with `sessionId`.
   */
  admit(
    key: string,
    id: RequestId,
    delivery: InboxDelivery,
    deadline: number,
    acksOnReceipt: boolean,
    sessionId?: string,
  ): void {
    if (acksOnReceipt) delivery.ack(sessionId);
    this.begin(key, id, acksOnReceipt ? [] : [delivery], deadline);
  }

  /** Removes and returns the in-flight request with this key, if any. */
  take(key: string): InFlightRequest | undefined {
    const request = this.#inFlight.get(key);
    if (!request) return undefined;
    this.#inFlight.delete(key);
    this.#onCountChange(-1);
    return request;
  }

  /** The request was answered: its deliveries are acknowledged and its key remembered. */
  settle(key: string): InFlightRequest | undefined {
    const request = this.take(key);
    if (!request) return undefined;
    for (const delivery of request.deliveries) delivery.ack();
    this.#answered.add(key);
    if (this.#answered.size > this.#recentAnswers) {
      this.#answered.delete(this.#answered.values().next().value!);
    }
    return request;
  }

  /**
   * The request was not finished here: its deliveries go back to the broker, at once or, with
   * `backOff`, later the more often they came back.
   */
  release(key: string, backOff = false): InFlightRequest | undefined {
    const request = this.take(key);
    if (!request) return undefined;
    for (const delivery of request.deliveries) {
      delivery.release(backOff ? releaseDelaySeconds(delivery.receiveCount) : 0);
    }
    return request;
  }

  /** Keys of the requests whose deadline has passed. */
  overdue(now: number): string[] {
    const keys: string[] = [];
    for (const [key, request] of this.#inFlight) if (request.deadline <= now) keys.push(key);
    return keys;
  }
}

/** Longest wait before a message handed back is offered again, in seconds. */
const MAX_RELEASE_DELAY_SECONDS = 60;

/**
 * How long a message that came back `receiveCount` times stays hidden when handed back again:
 * 1, 2, 4, ... seconds, at most a minute.
 *
 * @example
 * ```ts ignore
 * releaseDelaySeconds(3); // 4
 * ```
 */
export function releaseDelaySeconds(receiveCount: number): number {
  return Math.min(2 ** Math.max(0, receiveCount - 1), MAX_RELEASE_DELAY_SECONDS);
}

/**
 * The key of a request id in a ledger: 1 and "1" are different JSON-RPC ids.
 *
 * @example
 * ```ts ignore
 * requestKey(1); // "n:1"
 * ```
 */
export function requestKey(id: RequestId): string {
  return typeof id === "number" ? `n:${id}` : `s:${id}`;
}

/**
 * The error that refuses a request beyond the in-flight limit of a session (or, for stateless
 * requests, of a client): `count` requests are unanswered or undelivered.
 *
 * @example
 * ```ts ignore
 * busy("session", 256).code; // -32000
 * ```
 */
export function busy(owner: "session" | "client", count: number): JsonRpcErrorObject {
  return {
    code: JSONRPC_ERROR.SERVER_BUSY,
    message: `Server busy: this ${owner} has ${count} requests unanswered or undelivered; ` +
      "wait for their answers, then send it again",
  };
}

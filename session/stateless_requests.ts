/**
 * MCP 2026-07-28 over an asynchronous channel: every request carries its protocol version,
 * client facts and its own return address in `params._meta`, is served by an SDK v2 server from
 * the factory, and is answered at that address. No session, no store: any worker can serve any
 * request. A client's requests share one server for as long as they keep coming (a
 * {@linkcode ConnectionPool}), as a stdio connection does: a server per request costs four
 * times the CPU.
 *
 * @module
 */

import type { JSONRPCMessage, RequestId } from "../sdk.ts";
import type { AddressPolicy, AddressVerdict } from "./address_policy.ts";
import type { ClientConnection } from "./client_connection.ts";
import { ConnectionPool, LegacyOnlyServer, type Pin } from "./client_connection_pool.ts";
import type { DeliveryAnswers } from "./delivery_answers.ts";
import {
  type Envelope,
  errorResponse,
  isResponse,
  JSONRPC_ERROR,
  type JsonRpcErrorObject,
  methodOf,
  modernRevisionOf,
  requestIdOf,
} from "./envelope.ts";
import type { InboxDelivery } from "./inbox.ts";
import { describeError, type Logger } from "./logger.ts";
import { busy, requestKey, RequestLedger } from "./request_ledger.ts";
import type { Conversation, ReturnPath } from "./return_path.ts";
import { metaOf, type ReturnAddressKey, withoutReturnAddress } from "./return_address.ts";
import { legacyOnlyError, lowLevelServer } from "./server_eras.ts";
import type { ConnectableServer } from "./session_registry.ts";

/** What {@linkcode StatelessRequests} needs from its host. */
export interface StatelessRequestsOptions {
  /** Builds the MCP server that serves one request. */
  createServer: (context: { era: "modern" }) => ConnectableServer | Promise<ConnectableServer>;
  /** Sends what the servers send. */
  returns: ReturnPath;
  /** Settles deliveries that are not handed to an MCP server. */
  answers: DeliveryAnswers;
  /** Which `params._meta` keys carry the return address (and its secret). */
  returnAddressKey: ReturnAddressKey;
  /** Which return addresses may be used; asked per request (verdicts kept for a minute). */
  addressPolicy: AddressPolicy;
  /** Requests of one client running or undelivered at once. */
  maxInFlightPerClient: number;
  /** How long a request may run before it is answered with an error, in ms. */
  requestTimeoutMs: number;
  /** How long a client's connection outlives its last request, in ms. */
  idleMs: number;
  /**
   * Whether the inbox settles requests on receipt (FIFO queues, HTTP); asked each time, as an
   * SQS inbox learns it only when it starts.
   */
  acksOnReceipt: () => boolean;
  /** Told of every request taken (+1) and let go (-1). */
  countRequests: (delta: number) => void;
  /** Keeps work in the set that closing waits for. */
  track: <T>(work: Promise<T>) => Promise<T>;
  /** Where events are logged. */
  logger: Logger;
}

/** Which lists changed, for {@linkcode StatelessRequests.notifyChanged}. */
export type ListChange = "tools" | "prompts" | "resources" | { resource: string };

/** One request being served: a conversation on its client's connection. */
interface Exchange extends Conversation {
  readonly key: string;
  readonly id: RequestId;
  readonly clientId?: string;
  readonly method: string;
  readonly pin: Pin<Exchange>;
  finished: boolean;
}

/** How long an address policy's verdict is trusted, in ms. */
const VERDICT_TTL_MS = 60_000;
/** Answered request keys remembered, across clients, to drop a redelivery. */
const RECENT_ANSWERS = 4096;
/** Connections kept past their last request; the least recently used idle ones close first. */
const MAX_CONNECTIONS = 1000;

/** Serves 2026-07-28 requests (see the module documentation). */
export class StatelessRequests {
  readonly #options: StatelessRequestsOptions;
  readonly #ledger: RequestLedger;
  readonly #exchanges = new Map<string, Exchange>();
  readonly #perClient = new Map<string, number>();
  readonly #verdicts = new Map<string, { verdict: Promise<AddressVerdict>; until: number }>();
  readonly #connections: ConnectionPool<Exchange>;

  /** Creates the stateless side of a host. */
  constructor(options: StatelessRequestsOptions) {
    this.#options = options;
    this.#ledger = new RequestLedger(options.countRequests, RECENT_ANSWERS);
    this.#connections = new ConnectionPool({
      createServer: options.createServer,
      out: (pin, message, requestId) => this.#fromServer(pin, message, requestId),
      track: options.track,
      logger: options.logger,
      maxConnections: MAX_CONNECTIONS,
    });
  }

  /** The conversations of requests in flight, for closing. */
  conversations(): Conversation[] {
    return [...this.#exchanges.values()];
  }

  /** Takes one 2026-07-28 message. */
  accept(delivery: InboxDelivery, envelope: Envelope): void {
    const { message } = envelope;
    const id = requestIdOf(message);
    if (id === undefined) {
      this.#notification(delivery, envelope);
      return;
    }
    if (envelope.sessionId !== undefined) {
      this.#options.answers.refuse(
        delivery,
        "a 2026-07-28 request carries no session id: send it without SessionId (X-Session-ID), " +
          "or drop the protocolVersion from params._meta to use the session",
      );
      return;
    }
    const { returnAddressKey } = this.#options;
    const meta = metaOf(message)!;
    const returnAddress = meta[returnAddressKey.meta];
    if (typeof returnAddress !== "string" || returnAddress === "") {
      this.#options.answers.refuse(
        delivery,
        `2026-07-28 request has no return address in params._meta.${returnAddressKey.meta}`,
      );
      return;
    }
    this.#options.track(this.#verdict(returnAddress)).then((verdict) => {
      if (verdict !== true) {
        // Sending even an error there is what the policy forbids.
        const why = typeof verdict === "string"
          ? verdict
          : `Cannot use return address ${returnAddress} as this server's address policy refuses it`;
        this.#options.answers.refuse(delivery, "return address refused by the address policy", {
          returnAddress,
          why: typeof verdict === "string" ? verdict : undefined,
        }, {
          code: JSONRPC_ERROR.INVALID_PARAMS,
          message: `${why}: use an address this server may reach, or ask its operator to allow it`,
        });
        return;
      }
      const secret = returnAddressKey.secret ? meta[returnAddressKey.secret] : undefined;
      this.#begin(
        delivery,
        envelope,
        id,
        returnAddress,
        typeof secret === "string" ? secret : undefined,
      );
    }, (error) => this.#options.answers.fail(delivery, error));
  }

  /** Answers requests held longer than the timeout with an error and cancels them. */
  sweep(now: number): void {
    for (const key of this.#ledger.overdue(now)) {
      const exchange = this.#exchanges.get(key);
      if (!exchange) {
        this.#ledger.release(key);
        continue;
      }
      this.#options.logger.log("warn", "request.timed_out", {
        clientId: exchange.clientId,
        requestId: exchange.id,
        timeoutMs: this.#options.requestTimeoutMs,
      });
      this.#answer(exchange, {
        code: JSONRPC_ERROR.INTERNAL_ERROR,
        message: `Request timed out: the server did not answer within ` +
          `${this.#options.requestTimeoutMs} ms; run long jobs as tasks`,
      });
      void exchange.pin.connection?.deliver(cancellation(exchange.id, "timed out"));
    }
    this.#connections.closeIdle(now, this.#options.idleMs);
  }

  /**
   * Tells every open `subscriptions/listen` of this process that a list (or a resource)
   * changed; the subscribers get the notification at their return addresses.
   */
  notifyChanged(change: ListChange): void {
    for (const pin of this.#connections.pins()) {
      const server = pin.connection?.server;
      if (
        !server || ![...pin.requests.values()].some((e) => e.method === "subscriptions/listen")
      ) {
        continue;
      }
      // The low-level server's: they return their promise (McpServer's drop it), which rejects
      // when the server lacks the capability, and a dropped rejection would end the process.
      const low = lowLevelServer(server);
      const sent = change === "tools"
        ? low.sendToolListChanged()
        : change === "prompts"
        ? low.sendPromptListChanged()
        : change === "resources"
        ? low.sendResourceListChanged()
        : low.sendResourceUpdated({ uri: change.resource });
      Promise.resolve(sent).catch((error) =>
        this.#options.logger.log("warn", "listen.notify_failed", { error: describeError(error) })
      );
    }
  }

  /**
   * Closes every connection (open subscriptions are answered as they end) and hands back every
   * request still unanswered.
   */
  async close(): Promise<void> {
    await this.#connections.closeAll();
    for (const exchange of [...this.#exchanges.values()]) this.#finish(exchange);
  }

  #notification(delivery: InboxDelivery, envelope: Envelope): void {
    const { message } = envelope;
    delivery.ack();
    if (methodOf(message) !== "notifications/cancelled") {
      this.#options.logger.log("debug", "stateless.notification_ignored", {
        method: methodOf(message),
        clientId: envelope.clientId,
      });
      return;
    }
    const target = (message as { params?: { requestId?: unknown } }).params?.requestId;
    if (typeof target !== "string" && typeof target !== "number") return;
    // A notification need not name the return address: the client id and request id find it.
    const address = metaOf(message)?.[this.#options.returnAddressKey.meta];
    const targetKey = requestKey(target);
    for (const exchange of this.#exchanges.values()) {
      if (
        exchange.clientId !== envelope.clientId || requestKey(exchange.id) !== targetKey ||
        (typeof address === "string" && exchange.record.returnAddress !== address)
      ) continue;
      // A cancelled request is never answered (MCP spec): settled here, its server told to stop.
      void exchange.pin.connection?.deliver(
        withoutReturnAddress(message, this.#options.returnAddressKey),
      );
      this.#ledger.settle(exchange.key);
      queueMicrotask(() => this.#finish(exchange));
    }
  }

  #begin(
    delivery: InboxDelivery,
    envelope: Envelope,
    id: RequestId,
    returnAddress: string,
    returnSecret: string | undefined,
  ): void {
    const { clientId, message } = envelope;
    const key = keyOf(clientId, returnAddress, id);
    const acksOnReceipt = this.#options.acksOnReceipt();
    if (this.#ledger.settleDuplicate(key, delivery, acksOnReceipt)) return;
    const method = methodOf(message)!;
    const clientKey = clientId ?? returnAddress;
    const running = this.#perClient.get(clientKey) ?? 0;
    const record = {
      id: "",
      clientId,
      returnAddress,
      returnSecret,
      protocolVersion: modernRevisionOf(message),
    };
    if (running >= this.#options.maxInFlightPerClient) {
      this.#options.answers.sendError(record, id, busy("client", running), delivery);
      return;
    }
    const pin = this.#connections.pinOf(clientId, returnAddress);
    const exchange: Exchange = {
      key,
      id,
      clientId,
      method,
      record,
      requests: this.#ledger,
      keyOf: (requestId) => keyOf(clientId, returnAddress, requestId),
      ownKeys: () => this.#ledger.get(key) ? [key] : [],
      parkingKey: `client:${clientId ?? returnAddress}`,
      pin,
      finished: false,
    };
    // A subscription stays open until it is cancelled: it has no deadline.
    const deadline = method === "subscriptions/listen"
      ? Infinity
      : Date.now() + this.#options.requestTimeoutMs;
    this.#ledger.admit(key, id, delivery, deadline, acksOnReceipt);
    this.#exchanges.set(key, exchange);
    pin.requests.set(requestKey(id), exchange);
    this.#perClient.set(clientKey, running + 1);
    // The client has shown up: what could not reach it before goes out first.
    this.#options.returns.sendParked(exchange);
    this.#options.track(
      this.#serve(exchange, withoutReturnAddress(message, this.#options.returnAddressKey)),
    );
  }

  async #serve(exchange: Exchange, message: JSONRPCMessage): Promise<void> {
    let connection: ClientConnection;
    try {
      connection = await exchange.pin.ready;
    } catch (error) {
      this.#answer(
        exchange,
        error instanceof LegacyOnlyServer ? legacyOnlyError(message) : {
          code: JSONRPC_ERROR.INTERNAL_ERROR,
          message: `Cannot serve request as the server failed to start: ${describeError(error)}`,
        },
      );
      return;
    }
    if (!exchange.finished) await connection.deliver(message);
  }

  /**
   * Sends what the server sends to the request it belongs to; resolves once it is out, so that a
   * tool awaiting its progress notifications sends its result after them (two batches in flight
   * could swap otherwise). What belongs to no request in flight (a late progress notification of
   * a cancelled request) has nowhere to go.
   */
  #fromServer(
    pin: Pin<Exchange>,
    message: JSONRPCMessage,
    requestId: RequestId | undefined,
  ): Promise<void> {
    const exchange = requestId === undefined ? undefined : pin.requests.get(requestKey(requestId));
    if (!exchange) {
      this.#options.logger.log("debug", "stateless.unrouted", {
        connection: pin.key,
        method: methodOf(message),
        requestId,
      });
      return Promise.resolve();
    }
    const sent = this.#options.returns.send(exchange, message);
    if (isResponse(message)) sent.catch(() => {}).finally(() => this.#finish(exchange));
    return sent;
  }

  /** Answers the exchange's request with an error of our own, then ends it. */
  #answer(exchange: Exchange, error: JsonRpcErrorObject): void {
    this.#options.returns.send(exchange, errorResponse(exchange.id, error)).catch(() => {});
    queueMicrotask(() => this.#finish(exchange));
  }

  #finish(exchange: Exchange): void {
    if (exchange.finished) return;
    exchange.finished = true;
    if (this.#exchanges.get(exchange.key) === exchange) this.#exchanges.delete(exchange.key);
    const clientKey = exchange.clientId ?? exchange.record.returnAddress;
    const running = (this.#perClient.get(clientKey) ?? 1) - 1;
    if (running > 0) this.#perClient.set(clientKey, running);
    else this.#perClient.delete(clientKey);
    // An exchange that ends unanswered (its connection closed) hands its request back.
    this.#ledger.release(exchange.key);
    const { pin } = exchange;
    const requestKeyOfExchange = requestKey(exchange.id);
    if (pin.requests.get(requestKeyOfExchange) === exchange) {
      pin.requests.delete(requestKeyOfExchange);
    }
    this.#connections.released(pin);
  }

  /** The policy's verdict on `address`, asked at most once a minute. */
  #verdict(address: string): Promise<AddressVerdict> {
    const now = Date.now();
    const cached = this.#verdicts.get(address);
    if (cached && cached.until > now) return cached.verdict;
    const verdict = Promise.resolve(this.#options.addressPolicy(address));
    this.#verdicts.set(address, { verdict, until: now + VERDICT_TTL_MS });
    if (this.#verdicts.size > 1024) this.#verdicts.delete(this.#verdicts.keys().next().value!);
    verdict.catch(() => this.#verdicts.delete(address));
    return verdict;
  }
}

/**
 * The ledger key of a client's request: ids are only unique per client, and a client is its id
 * and its return address (two clients sharing an id by mistake or malice keep apart).
 */
function keyOf(clientId: string | undefined, returnAddress: string, id: RequestId): string {
  return `${clientId ?? ""}\n${returnAddress}\n${requestKey(id)}`;
}

function cancellation(requestId: RequestId, reason: string): JSONRPCMessage {
  return { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId, reason } };
}

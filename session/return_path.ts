/**
 * The way back to a client: what an MCP server sends in a conversation (a session, or one
 * stateless request) goes to the conversation's return address, retried in place while the broker says it may pass, replaced by an error answer when
 * the address refuses one message, kept for the client's next contact when it cannot arrive now,
 * and the session ended when the address takes nothing at all.
 *
 * @module
 */

import type { JSONRPCMessage, RequestId, TransportSendOptions } from "../sdk.ts";
import {
  type Envelope,
  errorResponse,
  isResponse,
  JSONRPC_ERROR,
  type JsonRpcErrorObject,
  methodOf,
} from "./envelope.ts";
import {
  BrokerError,
  DeliveryFailedError,
  MessageTooLargeError,
  TransportClosedError,
} from "./errors.ts";
import { describeError, type Logger } from "./logger.ts";
import type { Outbox } from "./outbox.ts";
import type { RequestLedger } from "./request_ledger.ts";
import type { SessionRecord } from "./session_store.ts";

/** Where a conversation's messages go, and the routing facts they carry. */
export type ReplyTarget = Pick<
  SessionRecord,
  "id" | "clientId" | "returnAddress" | "returnSecret" | "protocolVersion"
>;

/**
 * One conversation whose messages the return path sends: a 2025 session (whose `record.id` is
 * the session id), or one 2026-07-28 request (no session id).
 */
export interface Conversation {
  /** Where its messages go. */
  readonly record: ReplyTarget;
  /** The requests in flight that its answers settle. */
  readonly requests: RequestLedger;
  /** The ledger key of a request id of this conversation. */
  keyOf(id: RequestId): string;
  /** The keys of its own requests in flight (a ledger may be shared by many conversations). */
  ownKeys(): string[];
  /** Messages that could not be delivered wait under this key for the client's next contact. */
  readonly parkingKey: string;
  /** The request key of the `initialize` it still has to answer (sessions only). */
  pendingInitializeKey?: string;
  /** Runs before the answer to `initialize` goes out (a session stores itself then). */
  beforeInitializeAnswer?(): Promise<void>;
}

/** Options for {@linkcode ReturnPath}. */
export interface ReturnPathOptions {
  /** Where messages leave. */
  outbox: Outbox;
  /**
   * Whether the inbox can deliver a request again (a standard queue): a result that cannot be
   * sent now then hands its request back; otherwise the result is kept for the client's next
   * contact.
   */
  redeliverable: () => boolean;
  /** Ends a conversation whose return address takes nothing. */
  end: (conversation: Conversation) => void;
  /** Keeps work in the set that closing waits for. */
  track: <T>(work: Promise<T>) => Promise<T>;
  /** Told of every failure nobody waits for. */
  onerror: (error: Error) => void;
  /** Where events are logged. */
  logger: Logger;
}

/** Sends of one answer before the failure is taken as it is. */
const SEND_ATTEMPTS = 3;
/** Messages kept per client whose delivery failed, sent again when it next writes. */
const MAX_PARKED_PER_SESSION = 100;

/** A message kept after its delivery failed, to be sent again when its client writes. */
interface Parked {
  to: ReplyTarget;
  envelope: Envelope;
  deliveryId?: string;
}

/** Sends what hosted sessions' MCP servers send (see the module documentation). */
export class ReturnPath {
  /** False once closing has handed unfinished work back: late answers are then refused. */
  answering = true;
  readonly #options: ReturnPathOptions;
  readonly #logger: Logger;
  /** Messages whose delivery failed, by parking key, until their client writes again. */
  readonly #parked = new Map<string, Parked[]>();

  /** Creates the return path. */
  constructor(options: ReturnPathOptions) {
    this.#options = options;
    this.#logger = options.logger;
  }

  /** Forgets what was kept for a conversation that ended. */
  forget(conversation: Conversation): void {
    this.#parked.delete(conversation.parkingKey);
  }

  /** Sends an envelope to a known return address, as is. */
  sendEnvelope(
    to: Pick<SessionRecord, "returnAddress" | "returnSecret">,
    envelope: Envelope,
  ): Promise<void> {
    return this.#options.outbox.send(to.returnAddress, envelope, { secret: to.returnSecret });
  }

  /** Sends one message of a conversation's server; resolves once its return address took it. */
  send(
    conversation: Conversation,
    message: JSONRPCMessage,
    _options?: TransportSendOptions,
  ): Promise<void> {
    const responseKey = isResponse(message)
      ? conversation.keyOf((message as { id: RequestId }).id)
      : undefined;
    if (!this.answering) {
      return Promise.reject(
        new TransportClosedError(
          `Cannot send message as the server is closed: ${conversation.parkingKey}`,
        ),
      );
    }
    if (responseKey !== undefined && !conversation.requests.get(responseKey)) {
      // Already answered (it timed out, or was cancelled): a second answer would only confuse.
      this.#logger.log("debug", "answer.dropped", {
        sessionId: conversation.record.id,
        responseKey,
      });
      return Promise.resolve();
    }
    return this.#options.track(
      this.#deliverFromSession(conversation, message, responseKey).catch((error) => {
        // The SDK only tells its own server's onerror; operators hear of it here.
        this.#logger.log("error", "send.failed", {
          sessionId: conversation.record.id,
          method: methodOf(message),
          error: describeError(error),
        });
        this.#options.onerror(error instanceof Error ? error : new Error(String(error)));
        throw error;
      }),
    );
  }

  async #deliverFromSession(
    conversation: Conversation,
    message: JSONRPCMessage,
    responseKey: string | undefined,
  ): Promise<void> {
    const { record } = conversation;
    if (responseKey !== undefined && responseKey === conversation.pendingInitializeKey) {
      const result = (message as { result?: { protocolVersion?: unknown } }).result;
      if (typeof result?.protocolVersion === "string") {
        record.protocolVersion = result.protocolVersion;
      }
      try {
        // Stored before the client can learn the session id, so that any worker can serve
        // its next message.
        await conversation.beforeInitializeAnswer?.();
      } catch (error) {
        conversation.requests.release(responseKey, true);
        throw error;
      }
      conversation.pendingInitializeKey = undefined;
    }
    const envelope = envelopeFor(record, message);
    try {
      await this.#sendWithRetries(record, envelope);
    } catch (error) {
      await this.#afterFailedSend(conversation, envelope, responseKey, error);
      throw error;
    }
    if (responseKey !== undefined) conversation.requests.settle(responseKey);
  }

  /**
   * What happens to a message the return address did not take: a failure that may pass hands
   * the request back to the broker (or, where the broker cannot deliver it again, keeps the
   * message for the client's next contact); a refusal of this message gets an error answer in
   * its place; an address that refuses even that ends the session.
   */
  async #afterFailedSend(
    conversation: Conversation,
    envelope: Envelope,
    responseKey: string | undefined,
    error: unknown,
  ): Promise<void> {
    const { requests } = conversation;
    if (!isPermanent(error)) {
      if (responseKey !== undefined && this.#options.redeliverable()) {
        // Possibly passing: hand the request back, later each time it comes back.
        requests.release(responseKey, true);
        return;
      }
      this.#park(conversation, envelope, error);
      if (responseKey !== undefined) requests.settle(responseKey);
      return;
    }
    if (responseKey === undefined) return;
    const request = requests.get(responseKey)!;
    try {
      await this.#sendWithRetries(
        conversation.record,
        envelopeFor(conversation.record, errorResponse(request.id, undeliverable(error))),
      );
    } catch (fallbackError) {
      if (isPermanent(fallbackError)) {
        // The address takes nothing: no worker should keep serving this session.
        this.#logger.log("warn", "session.address_gone", {
          sessionId: conversation.record.id,
          returnAddress: conversation.record.returnAddress,
          error: describeError(fallbackError),
        });
        this.#options.end(conversation);
      }
    } finally {
      // Running the request again would only repeat its effects.
      requests.settle(responseKey);
    }
  }

  /** Keeps a message that could not be delivered, for the client's next contact. */
  #park(conversation: Conversation, envelope: Envelope, error: unknown): void {
    const id = conversation.parkingKey;
    let parked = this.#parked.get(id);
    if (!parked) this.#parked.set(id, parked = []);
    parked.push({
      to: { ...conversation.record },
      envelope,
      deliveryId: error instanceof DeliveryFailedError ? error.deliveryId : undefined,
    });
    if (parked.length > MAX_PARKED_PER_SESSION) {
      const dropped = parked.shift()!;
      this.#logger.log("error", "message.dropped", {
        sessionId: id,
        method: methodOf(dropped.envelope.message),
        reason: `more than ${MAX_PARKED_PER_SESSION} undelivered messages`,
      });
    }
    this.#logger.log("warn", "message.parked", {
      sessionId: id,
      method: methodOf(envelope.message),
      parked: parked.length,
    });
  }

  /** Sends again what could not be delivered, now that the client has shown up. */
  sendParked(conversation: Conversation): void {
    const parked = this.#parked.get(conversation.parkingKey);
    if (!parked) return;
    this.#parked.delete(conversation.parkingKey);
    for (const { to, envelope, deliveryId } of parked) {
      this.#options.track(
        this.#options.outbox.send(to.returnAddress, envelope, {
          secret: to.returnSecret,
          deliveryId,
        }),
      ).catch((error) => {
        if (isPermanent(error)) this.#options.onerror(asError(error));
        else this.#park(conversation, envelope, error);
      });
    }
  }

  /** Sends, retrying a few times in place when the broker says the failure may pass. */
  async #sendWithRetries(
    to: Pick<SessionRecord, "returnAddress" | "returnSecret">,
    envelope: Envelope,
  ): Promise<void> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#options.outbox.send(to.returnAddress, envelope, {
          secret: to.returnSecret,
        });
      } catch (error) {
        if (!(error instanceof BrokerError) || !error.retryable || attempt >= SEND_ATTEMPTS) {
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * 4 ** (attempt - 1)));
      }
    }
  }

  /**
   * Requests acknowledged on receipt (FIFO queues) will not come back from the broker: tell their
   * clients to send them again rather than leave them waiting.
   */
  async answerUnredeliverable(conversations: Conversation[]): Promise<void> {
    const answers: Promise<void>[] = [];
    for (const conversation of conversations) {
      for (const key of conversation.ownKeys()) {
        if (conversation.requests.get(key)!.deliveries.length > 0) continue;
        const request = conversation.requests.take(key)!;
        answers.push(
          this.#options.outbox.send(
            conversation.record.returnAddress,
            envelopeFor(
              conversation.record,
              errorResponse(request.id, {
                code: JSONRPC_ERROR.SERVER_BUSY,
                message: "Cannot finish request as the server is shutting down: send it again",
              }),
            ),
            { secret: conversation.record.returnSecret },
          ).catch((error) => this.#options.onerror(asError(error))),
        );
      }
    }
    await Promise.all(answers);
  }
}

/**
 * The envelope of a message a conversation sends: its session id (if any), its client's id and
 * the version in use.
 */
export function envelopeFor(
  record: Pick<SessionRecord, "id" | "clientId" | "protocolVersion">,
  message: JSONRPCMessage,
): Envelope {
  return {
    message,
    sessionId: record.id || undefined,
    clientId: record.clientId,
    protocolVersion: record.protocolVersion,
  };
}

/** True when sending the same message to the same address again cannot succeed. */
function isPermanent(error: unknown): boolean {
  if (error instanceof MessageTooLargeError) return true;
  if (error instanceof BrokerError) return !error.retryable;
  if (error instanceof DeliveryFailedError) return error.permanent;
  return false;
}

/** The error answer that replaces a result the return address refused. */
function undeliverable(error: unknown): JsonRpcErrorObject {
  if (error instanceof MessageTooLargeError) {
    return {
      code: JSONRPC_ERROR.INTERNAL_ERROR,
      message: `Result too large to send: ${error.sizeBytes} bytes, ` +
        `the limit is ${error.limitBytes} bytes; return less data or a link to it`,
    };
  }
  return {
    code: JSONRPC_ERROR.INTERNAL_ERROR,
    message: `Result could not be delivered: ${describeError(error)}`,
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

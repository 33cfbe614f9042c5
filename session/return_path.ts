/**
 * The way back to a session's client: what its MCP server sends goes to the session's return
 * address, retried in place while the broker says it may pass, replaced by an error answer when
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
import { requestKey } from "./request_ledger.ts";
import type { HostedSession } from "./session_registry.ts";
import type { SessionRecord } from "./session_store.ts";

/** Options for {@linkcode ReturnPath}. */
export interface ReturnPathOptions {
  /** Where messages leave. */
  outbox: Outbox;
  /**
   * Whether the inbox can deliver a request again (a standard queue): a result that cannot be
   * sent now then hands its request back; otherwise the result is kept for the client's next
   * contact.
   */
  redeliverable: boolean;
  /** Stores a session's record (before the client can learn its id). */
  save: (record: SessionRecord) => Promise<void>;
  /** Ends a session whose return address takes nothing. */
  end: (session: HostedSession) => void;
  /** Keeps work in the set that closing waits for. */
  track: <T>(work: Promise<T>) => Promise<T>;
  /** Told of every failure nobody waits for. */
  onerror: (error: Error) => void;
  /** Where events are logged. */
  logger: Logger;
}

/** Sends of one answer before the failure is taken as it is. */
const SEND_ATTEMPTS = 3;
/** Messages kept per session whose delivery failed, sent again when its client next writes. */
const MAX_PARKED_PER_SESSION = 100;

/** A message kept after its delivery failed, to be sent again when the session's client writes. */
interface Parked {
  envelope: Envelope;
  deliveryId?: string;
}

/** Sends what hosted sessions' MCP servers send (see the module documentation). */
export class ReturnPath {
  /** False once closing has handed unfinished work back: late answers are then refused. */
  answering = true;
  readonly #options: ReturnPathOptions;
  readonly #logger: Logger;
  /** Messages whose delivery failed, by session id, until its client writes again. */
  readonly #parked = new Map<string, Parked[]>();

  /** Creates the return path. */
  constructor(options: ReturnPathOptions) {
    this.#options = options;
    this.#logger = options.logger;
  }

  /** Forgets what was kept for a session that ended. */
  forget(sessionId: string): void {
    this.#parked.delete(sessionId);
  }

  /** Sends an envelope to a known return address, as is. */
  sendEnvelope(
    to: Pick<SessionRecord, "returnAddress" | "returnSecret">,
    envelope: Envelope,
  ): Promise<void> {
    return this.#options.outbox.send(to.returnAddress, envelope, { secret: to.returnSecret });
  }

  /** Sends one message of `session`'s server; resolves once its return address took it. */
  send(
    session: HostedSession,
    message: JSONRPCMessage,
    _options?: TransportSendOptions,
  ): Promise<void> {
    const responseKey = isResponse(message)
      ? requestKey((message as { id: RequestId }).id)
      : undefined;
    if (!this.answering) {
      return Promise.reject(
        new TransportClosedError(
          `Cannot send message as the server is closed: session ${session.record.id}`,
        ),
      );
    }
    if (responseKey !== undefined && !session.requests.get(responseKey)) {
      // Already answered (it timed out, or was cancelled): a second answer would only confuse.
      this.#logger.log("debug", "answer.dropped", { sessionId: session.record.id, responseKey });
      return Promise.resolve();
    }
    return this.#options.track(
      this.#deliverFromSession(session, message, responseKey).catch((error) => {
        // The SDK only tells its own server's onerror; operators hear of it here.
        this.#logger.log("error", "send.failed", {
          sessionId: session.record.id,
          method: methodOf(message),
          error: describeError(error),
        });
        this.#options.onerror(error instanceof Error ? error : new Error(String(error)));
        throw error;
      }),
    );
  }

  async #deliverFromSession(
    session: HostedSession,
    message: JSONRPCMessage,
    responseKey: string | undefined,
  ): Promise<void> {
    const { record } = session;
    if (responseKey !== undefined && responseKey === session.pendingInitializeKey) {
      const result = (message as { result?: { protocolVersion?: unknown } }).result;
      if (typeof result?.protocolVersion === "string") {
        record.protocolVersion = result.protocolVersion;
      }
      try {
        // Stored before the client can learn the session id, so that any worker can serve
        // its next message.
        await this.#options.save(record);
      } catch (error) {
        session.requests.release(responseKey, true);
        throw error;
      }
      session.pendingInitializeKey = undefined;
    }
    const envelope = envelopeFor(record, message);
    try {
      await this.#sendWithRetries(record, envelope);
    } catch (error) {
      await this.#afterFailedSend(session, envelope, responseKey, error);
      throw error;
    }
    if (responseKey !== undefined) session.requests.settle(responseKey);
  }

  /**
   * What happens to a message the return address did not take: a failure that may pass hands
   * the request back to the broker (or, where the broker cannot deliver it again, keeps the
   * message for the client's next contact); a refusal of this message gets an error answer in
   * its place; an address that refuses even that ends the session.
   */
  async #afterFailedSend(
    session: HostedSession,
    envelope: Envelope,
    responseKey: string | undefined,
    error: unknown,
  ): Promise<void> {
    const { requests } = session;
    if (!isPermanent(error)) {
      if (responseKey !== undefined && !!this.#options.redeliverable) {
        // Possibly passing: hand the request back, later each time it comes back.
        requests.release(responseKey, true);
        return;
      }
      this.#park(session, envelope, error);
      if (responseKey !== undefined) requests.settle(responseKey);
      return;
    }
    if (responseKey === undefined) return;
    const request = requests.get(responseKey)!;
    try {
      await this.#sendWithRetries(
        session.record,
        envelopeFor(session.record, errorResponse(request.id, undeliverable(error))),
      );
    } catch (fallbackError) {
      if (isPermanent(fallbackError)) {
        // The address takes nothing: no worker should keep serving this session.
        this.#logger.log("warn", "session.address_gone", {
          sessionId: session.record.id,
          returnAddress: session.record.returnAddress,
          error: describeError(fallbackError),
        });
        this.#options.end(session);
      }
    } finally {
      // Running the request again would only repeat its effects.
      requests.settle(responseKey);
    }
  }

  /** Keeps a message that could not be delivered, for the session's client's next contact. */
  #park(session: HostedSession, envelope: Envelope, error: unknown): void {
    const { id } = session.record;
    let parked = this.#parked.get(id);
    if (!parked) this.#parked.set(id, parked = []);
    parked.push({
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
  sendParked(session: HostedSession): void {
    const parked = this.#parked.get(session.record.id);
    if (!parked) return;
    this.#parked.delete(session.record.id);
    for (const { envelope, deliveryId } of parked) {
      this.#options.track(
        this.#options.outbox.send(session.record.returnAddress, envelope, {
          secret: session.record.returnSecret,
          deliveryId,
        }),
      ).catch((error) => {
        if (isPermanent(error)) this.#options.onerror(asError(error));
        else this.#park(session, envelope, error);
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
  async answerUnredeliverable(sessions: HostedSession[]): Promise<void> {
    const answers: Promise<void>[] = [];
    for (const session of sessions) {
      for (const key of session.requests.keys()) {
        if (session.requests.get(key)!.deliveries.length > 0) continue;
        const request = session.requests.take(key)!;
        answers.push(
          this.#options.outbox.send(
            session.record.returnAddress,
            envelopeFor(
              session.record,
              errorResponse(request.id, {
                code: JSONRPC_ERROR.SERVER_BUSY,
                message: "Cannot finish request as the server is shutting down: send it again",
              }),
            ),
            { secret: session.record.returnSecret },
          ).catch((error) => this.#options.onerror(asError(error))),
        );
      }
    }
    await Promise.all(answers);
  }
}

/** The envelope of a message a session sends: its id, its client's id and the version in use. */
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

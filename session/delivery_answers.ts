/**
 * How a server settles a delivery it does not hand to an MCP server: an error answer where the
 * sender can be reached, a logged refusal where it cannot, a later retry where handling failed.
 *
 * @module
 */

import type { RequestId } from "../sdk.ts";
import {
  errorResponse,
  JSONRPC_ERROR,
  type JsonRpcErrorObject,
  methodOf,
  requestIdOf,
} from "./envelope.ts";
import type { InboxDelivery } from "./inbox.ts";
import { describeError, type Logger } from "./logger.ts";
import { releaseDelaySeconds } from "./request_ledger.ts";
import { envelopeFor, type ReplyTarget, type ReturnPath } from "./return_path.ts";

/** What {@linkcode DeliveryAnswers} needs from its host. */
export interface DeliveryAnswersOptions {
  /** Sends error answers. */
  returns: ReturnPath;
  /** Keeps work in the set that closing waits for. */
  track: <T>(work: Promise<T>) => Promise<T>;
  /** Told of every failure nobody waits for. */
  onerror: (error: Error) => void;
  /** Where events are logged. */
  logger: Logger;
}

/** Receives of a message whose handling keeps failing before it is left to the redrive policy. */
const MAX_FAILED_RECEIVES = 10;

/** Settles deliveries with errors, refusals and retries (see the module documentation). */
export class DeliveryAnswers {
  readonly #options: DeliveryAnswersOptions;

  /** Creates the answers of one host. */
  constructor(options: DeliveryAnswersOptions) {
    this.#options = options;
  }

  /** Sends an error answer to a known return address and settles the delivery once it is out. */
  sendError(
    to: ReplyTarget,
    id: RequestId | null,
    error: JsonRpcErrorObject,
    delivery: InboxDelivery,
  ): void {
    this.#options.logger.log("warn", "message.answered_with_error", {
      messageId: delivery.messageId,
      sessionId: to.id || undefined,
      clientId: to.clientId,
      code: error.code,
      reason: error.message,
    });
    if (delivery.refuse) {
      // The sender is waiting for its reply: the error goes there, and only there.
      delivery.refuse(error, id);
      return;
    }
    this.#options.track(
      this.#options.returns.sendEnvelope(to, envelopeFor(to, errorResponse(id, error))),
    )
      .then(
        () => delivery.ack(),
        (sendError) => this.fail(delivery, sendError),
      );
  }

  /**
   * A message whose return address cannot be used: log why, then tell the sender when it waits
   * for a reply (HTTP), else dead-letter or drop it.
   */
  refuse(
    delivery: InboxDelivery,
    reason: string,
    fields: Record<string, unknown> = {},
    error: JsonRpcErrorObject = {
      code: JSONRPC_ERROR.INVALID_REQUEST,
      message: `Invalid request: ${reason}`,
    },
  ): void {
    const envelope = delivery.incoming.ok ? delivery.incoming.envelope : undefined;
    this.#options.logger.log("warn", "message.refused", {
      reason,
      messageId: delivery.messageId,
      receiveCount: delivery.receiveCount,
      sessionId: envelope?.sessionId,
      clientId: envelope?.clientId,
      method: envelope ? methodOf(envelope.message) : undefined,
      ...fields,
    });
    if (delivery.refuse) {
      const id = envelope ? requestIdOf(envelope.message) ?? null : (
        delivery.incoming.ok ? null : delivery.incoming.invalid.id
      );
      delivery.refuse(error, id);
    } else {
      delivery.reject();
    }
  }

  /**
   * Handling failed (the store, the broker): the message comes back later, each time later, and
   * after {@linkcode MAX_FAILED_RECEIVES} receives it is left to the redrive policy.
   */
  fail(delivery: InboxDelivery, error: unknown): void {
    const fields = {
      messageId: delivery.messageId,
      receiveCount: delivery.receiveCount,
      error: describeError(error),
    };
    const { logger } = this.#options;
    if (delivery.receiveCount >= MAX_FAILED_RECEIVES) {
      logger.log("error", "message.abandoned", {
        ...fields,
        reason: `handling failed on ${delivery.receiveCount} receives`,
      });
      delivery.reject();
    } else {
      // Logged once, not at every one of its receives.
      logger.log(delivery.receiveCount === 1 ? "error" : "debug", "message.failed", fields);
      delivery.release(releaseDelaySeconds(delivery.receiveCount));
    }
    this.#options.onerror(error instanceof Error ? error : new Error(String(error)));
  }
}

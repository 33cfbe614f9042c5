/**
 * One reply channel (a response queue, a reply topic's queue, a webhook receiver) shared by many
 * client transports in a process, each getting only its own messages.
 *
 * @module
 */

import type { RequestId } from "../sdk.ts";
import { isResponse } from "./envelope.ts";
import type { Inbox, InboxDelivery } from "./inbox.ts";
import { consoleLogger, type Logger } from "./logger.ts";

/** One client transport as the router sees it. */
export interface ReplyRoute {
  /** The client id the transport sends with every message. */
  readonly clientId: string;
  /** The session id, once the transport has learned it. */
  readonly sessionId: string | undefined;
  /** The (channel-unique) id of the `initialize` request still waiting for its answer, if any. */
  readonly pendingInitializeId: RequestId | undefined;
  /** Takes a delivery that belongs to this transport; must settle it. */
  deliver(delivery: InboxDelivery): void;
  /** Told when the channel itself fails (its queue is gone, access denied). */
  fail(error: Error): void;
  /**
   * Told when the channel refused a message for this client because its signature did not
   * check out against the client's key (a secret configured differently on the two sides):
   * `id` is the id of the response it carried, when it could be read.
   */
  unverified?(id: RequestId | undefined, reason: string): void;
}

/** Options for {@linkcode ReplyRouter}. */
export interface ReplyRouterOptions {
  /**
   * A message that no transport in this process claims is handed back to the broker, with a
   * growing delay, for another process sharing the channel; once it is this old it is
   * dead-lettered or dropped. @default {300_000} (5 minutes)
   */
  maxUnclaimedAgeMs?: number;
  /** Where events are logged. @default {consoleLogger()} */
  logger?: Logger;
  /** Called once when the last route detaches, before the inbox closes; the router is then spent. */
  onClose?: () => void;
}

/** Longest a released, unclaimed message stays hidden before it is offered again, in seconds. */
const MAX_RELEASE_DELAY_SECONDS = 20;
/** Without a send time, give up on an unclaimed message after this many receives. */
const MAX_UNCLAIMED_RECEIVES = 30;

/**
 * Demultiplexes one inbox to many client transports: by the `ClientId` the server echoes, else by
 * session id, else (for peers that echo neither before the session exists) by the id of a
 * pending `initialize`, which each client makes unique. Starts the inbox with the first route and
 * closes it after the last.
 *
 * @example Share one response queue between two clients
 * ```ts ignore
 * import { ReplyRouter } from "@asyncmcp/asyncmcp/session";
 *
 * const router = new ReplyRouter(myInbox);
 * await router.attach(routeOfClientA);
 * await router.attach(routeOfClientB);
 * ```
 */
export class ReplyRouter {
  #inbox: Inbox;
  #logger: Logger;
  #maxUnclaimedAgeMs: number;
  #onClose?: () => void;
  #routes = new Set<ReplyRoute>();
  #byClientId = new Map<string, ReplyRoute>();
  #running?: Promise<void>;
  #closing?: Promise<void>;

  /** Routes deliveries of `inbox`; the inbox starts with the first attached route. */
  constructor(inbox: Inbox, options: ReplyRouterOptions = {}) {
    this.#inbox = inbox;
    this.#logger = options.logger ?? consoleLogger();
    this.#maxUnclaimedAgeMs = options.maxUnclaimedAgeMs ?? 300_000;
    this.#onClose = options.onClose;
  }

  /** How many routes are attached. */
  get size(): number {
    return this.#routes.size;
  }

  /** Attaches a route, starting the inbox when it is the first. Throws when the client id is taken. */
  async attach(route: ReplyRoute): Promise<void> {
    if (this.#closing) {
      throw new Error("Cannot attach client as this reply channel is closed: create a new one");
    }
    if (this.#byClientId.has(route.clientId)) {
      throw new Error(
        `Cannot attach client as client id '${route.clientId}' is already in use on this reply ` +
          "channel: give each client its own id",
      );
    }
    this.#routes.add(route);
    this.#byClientId.set(route.clientId, route);
    this.#running ??= this.#inbox.start((deliveries) => {
      for (const delivery of deliveries) this.#route(delivery);
    });
    try {
      await this.#running;
    } catch (error) {
      this.#routes.delete(route);
      this.#byClientId.delete(route.clientId);
      this.#running = undefined;
      throw error;
    }
  }

  /** Detaches a route; the last one out closes the inbox. */
  async detach(route: ReplyRoute): Promise<void> {
    if (!this.#routes.delete(route)) return;
    this.#byClientId.delete(route.clientId);
    if (this.#routes.size > 0 || !this.#running) return;
    this.#onClose?.();
    this.#closing ??= this.#inbox.close();
    await this.#closing;
  }

  /**
   * Tells the client a refused message was for (by its client id, else its session id), if it
   * is attached, that the message was not verified (see {@linkcode ReplyRoute.unverified}).
   */
  unverified(
    routing: { clientId?: string; sessionId?: string },
    id: RequestId | undefined,
    reason: string,
  ): void {
    const owner = routing.clientId !== undefined
      ? this.#byClientId.get(routing.clientId)
      : [...this.#routes].find((route) =>
        routing.sessionId !== undefined && route.sessionId === routing.sessionId
      );
    owner?.unverified?.(id, reason);
  }

  /** Reports a failure of the channel itself to every attached client. */
  fail(error: Error): void {
    for (const route of this.#routes) route.fail(error);
  }

  #route(delivery: InboxDelivery): void {
    const owner = this.#owner(delivery);
    if (owner) {
      owner.deliver(delivery);
      return;
    }
    const age = delivery.sentAt === undefined ? undefined : Date.now() - delivery.sentAt;
    const expired = age === undefined
      ? delivery.receiveCount >= MAX_UNCLAIMED_RECEIVES
      : age > this.#maxUnclaimedAgeMs;
    if (expired) {
      const routing = delivery.incoming.ok ? delivery.incoming.envelope : delivery.incoming.invalid;
      this.#logger.log("warn", "reply.unclaimed", {
        messageId: delivery.messageId,
        receiveCount: delivery.receiveCount,
        ageMs: age,
        sessionId: routing.sessionId,
        clientId: routing.clientId,
      });
      delivery.reject();
      return;
    }
    // Another process may own it; back off so that this one does not keep taking it.
    delivery.release(Math.min(2 ** (delivery.receiveCount - 1) - 1, MAX_RELEASE_DELAY_SECONDS));
  }

  #owner(delivery: InboxDelivery): ReplyRoute | undefined {
    const routing = delivery.incoming.ok ? delivery.incoming.envelope : delivery.incoming.invalid;
    if (routing.clientId !== undefined) return this.#byClientId.get(routing.clientId);
    if (routing.sessionId !== undefined) {
      for (const route of this.#routes) if (route.sessionId === routing.sessionId) return route;
    }
    if (!delivery.incoming.ok || !isResponse(delivery.incoming.envelope.message)) return undefined;
    const id = (delivery.incoming.envelope.message as { id: RequestId }).id;
    for (const route of this.#routes) {
      if (route.sessionId === undefined && route.pendingInitializeId === id) return route;
    }
    return undefined;
  }
}

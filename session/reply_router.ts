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
  /** The id of the `initialize` request still waiting for its answer, if any. */
  readonly pendingInitializeId: RequestId | undefined;
  /** Takes a delivery that belongs to this transport; must settle it. */
  deliver(delivery: InboxDelivery): void;
}

/** Options for {@linkcode ReplyRouter}. */
export interface ReplyRouterOptions {
  /**
   * A message that no transport in this process claims is handed back to the broker (another
   * process sharing the channel may own it) until it has been received this many times; then it
   * is dead-lettered or dropped. @default {10}
   */
  maxUnclaimedReceives?: number;
  /** Where events are logged. @default {consoleLogger()} */
  logger?: Logger;
  /** Called once the last route has detached and the inbox is closed. */
  onIdle?: () => void;
}

/**
 * Demultiplexes one inbox to many client transports: by the `ClientId` the server echoes, else by
 * session id, else (for peers that echo neither before the session exists) by the id of a
 * pending `initialize`. Starts the inbox with the first route and closes it after the last.
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
  #maxUnclaimedReceives: number;
  #onIdle?: () => void;
  #routes = new Set<ReplyRoute>();
  #byClientId = new Map<string, ReplyRoute>();
  #running?: Promise<void>;
  #stopping?: Promise<void>;

  /** Routes deliveries of `inbox`; the inbox starts with the first attached route. */
  constructor(inbox: Inbox, options: ReplyRouterOptions = {}) {
    this.#inbox = inbox;
    this.#logger = options.logger ?? consoleLogger();
    this.#maxUnclaimedReceives = options.maxUnclaimedReceives ?? 10;
    this.#onIdle = options.onIdle;
  }

  /** How many routes are attached. */
  get size(): number {
    return this.#routes.size;
  }

  /** Attaches a route, starting the inbox when it is the first. Throws when the client id is taken. */
  async attach(route: ReplyRoute): Promise<void> {
    if (this.#byClientId.has(route.clientId)) {
      throw new Error(
        `Cannot attach client as client id '${route.clientId}' is already in use on this reply channel: ` +
          "give each client its own id",
      );
    }
    if (this.#stopping) {
      throw new Error("Cannot attach client as this reply channel is closed: create a new one");
    }
    this.#routes.add(route);
    this.#byClientId.set(route.clientId, route);
    this.#running ??= this.#inbox.start((deliveries) => {
      for (const delivery of deliveries) this.#route(delivery);
    });
    await this.#running;
  }

  /** Detaches a route; the last one out closes the inbox. */
  async detach(route: ReplyRoute): Promise<void> {
    if (!this.#routes.delete(route)) return;
    this.#byClientId.delete(route.clientId);
    if (this.#routes.size === 0 && this.#running) {
      this.#stopping = this.#inbox.close();
      await this.#stopping;
      this.#onIdle?.();
    }
  }

  #route(delivery: InboxDelivery): void {
    const owner = this.#owner(delivery);
    if (owner) {
      owner.deliver(delivery);
      return;
    }
    if (delivery.receiveCount >= this.#maxUnclaimedReceives) {
      const routing = delivery.incoming.ok ? delivery.incoming.envelope : delivery.incoming.invalid;
      this.#logger.log("warn", "reply.unclaimed", {
        messageId: delivery.messageId,
        receiveCount: delivery.receiveCount,
        sessionId: routing.sessionId,
        clientId: routing.clientId,
      });
      delivery.reject();
    } else {
      delivery.release();
    }
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

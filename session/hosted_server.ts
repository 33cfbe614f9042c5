/**
 * The public face shared by every server-side transport: start, close, status.
 *
 * @module
 */

import {
  type ListChange,
  type SessionEnder,
  SessionHost,
  type SessionHostOptions,
  type SessionHostStatus,
} from "./session_host.ts";

/**
 * A server-side transport: a {@linkcode SessionHost} with the inbox, outbox and address policy its
 * subclass picks. `SqsServer` and `SnsSqsServer` are this class with a constructor.
 *
 * @example Serve sessions from your own inbox and outbox
 * ```ts ignore
 * import { HostedServer } from "@asyncmcp/asyncmcp/session";
 *
 * class MyServer extends HostedServer {
 *   constructor() {
 *     super({ inbox, outbox, returnAddressKey: { meta: "replyTo" }, addressPolicy, createServer });
 *   }
 * }
 * ```
 */
export class HostedServer {
  #host: SessionHost;

  /** Builds the session host; nothing is received until {@linkcode HostedServer.start}. */
  constructor(options: SessionHostOptions) {
    this.#host = new SessionHost(options);
  }

  /**
   * Tells every open 2026-07-28 `subscriptions/listen` of this process that a list (or a
   * resource) changed: `"tools"`, `"prompts"`, `"resources"` or `{ resource: uri }`.
   */
  notifyChanged(change: ListChange): void {
    this.#host.notifyChanged(change);
  }

  /** Sessions and requests held in this process. */
  get status(): SessionHostStatus {
    return this.#host.status;
  }

  /** Reads the source's settings and starts receiving. Throws when called twice. */
  start(): Promise<void> {
    return this.#host.start();
  }

  /**
   * Ends a session: closes its MCP server and forgets it here and in the store. With `from` (a
   * client's own request) a session bound to a client id ends only for that client. Resolves
   * false when there is no such session, or it is not theirs.
   */
  endSession(sessionId: string, from?: SessionEnder): Promise<boolean> {
    return this.#host.endSession(sessionId, from);
  }

  /**
   * Stops receiving at once, lets running requests finish for `closeGraceMs`, returns the rest to
   * the broker for another worker, and ends every session. Idempotent.
   */
  close(): Promise<void> {
    return this.#host.close();
  }
}

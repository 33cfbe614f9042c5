/**
 * The public face shared by every server-side transport: start, close, status.
 *
 * @module
 */

import { SessionHost, type SessionHostOptions, type SessionHostStatus } from "./session_host.ts";

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

  /** Sessions and requests held in this process. */
  get status(): SessionHostStatus {
    return this.#host.status;
  }

  /** Reads the source's settings and starts receiving. Throws when called twice. */
  start(): Promise<void> {
    return this.#host.start();
  }

  /**
   * Ends a session as if its client had asked: closes its MCP server and forgets it here and in
   * the store. Resolves false when there is no such session (or `clientId` is not its client).
   */
  endSession(sessionId: string, clientId?: string): Promise<boolean> {
    return this.#host.endSession(sessionId, clientId);
  }

  /**
   * Stops receiving at once, lets running requests finish for `closeGraceMs`, returns the rest to
   * the broker for another worker, and ends every session. Idempotent.
   */
  close(): Promise<void> {
    return this.#host.close();
  }
}

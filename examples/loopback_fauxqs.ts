/**
 * The embedded broker, fauxqs, listening on the loopback interface only. `startFauxqs()` always
 * listens on 0.0.0.0 whatever its `host` option says (that option only shapes queue URLs), so
 * this builds fauxqs's app and listens on 127.0.0.1 itself.
 *
 * @module
 */

import type { AddressInfo } from "node:net";
import { buildApp } from "fauxqs";

/** A running loopback broker. */
export interface LoopbackFauxqs {
  /** The address the broker's socket is bound to: always `127.0.0.1`. */
  hostname: string;
  /** The port it listens on (the one asked for, or one the OS chose for 0). */
  port: number;
  /** Closes the socket and every connection. */
  stop(): Promise<void>;
}

/** Options for {@linkcode listenFauxqs}. */
export interface ListenFauxqsOptions {
  /** The port to listen on; 0 lets the OS choose. @default {0} */
  port?: number;
}

/**
 * Starts fauxqs on 127.0.0.1. Queue URLs it hands out name `sqs.<region>.127.0.0.1:<port>`, a
 * host that does not resolve: clients must be given the endpoint explicitly.
 *
 * @example
 * ```ts ignore
 * import { listenFauxqs } from "./loopback_fauxqs.ts";
 *
 * const broker = await listenFauxqs({ port: 4566 });
 * console.log(`AWS_ENDPOINT_URL=http://${broker.hostname}:${broker.port}`);
 * await broker.stop();
 * ```
 */
export async function listenFauxqs(options: ListenFauxqsOptions = {}): Promise<LoopbackFauxqs> {
  const hostname = "127.0.0.1";
  const app = buildApp({ logger: false, host: hostname });
  await app.listen({ port: options.port ?? 0, host: hostname });
  const address = app.server.address() as AddressInfo;
  return { hostname: address.address, port: address.port, stop: () => app.close() };
}

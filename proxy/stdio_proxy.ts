/**
 * The proxy's stdio front end, for desktop clients that start MCP servers as processes: this
 * process's stdin and stdout are one MCP session, forwarded to a back end.
 *
 * @module
 */

import process from "node:process";
import type { Readable, Writable } from "node:stream";
// Not re-exported from sdk.ts: stdio is only for this front end, and needs no one else's imports.
// @ts-types="@modelcontextprotocol/sdk/server/stdio"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Transport } from "../sdk.ts";
import { consoleLogger, type Logger } from "../session/logger.ts";
import { ProxySession, type ProxyWaitOptions } from "./proxy_session.ts";

/** Options for {@linkcode serveStdio}. */
export interface StdioProxyOptions extends ProxyWaitOptions {
  /** Where events are logged (standard error: standard output carries the protocol). */
  logger?: Logger;
  /** Where the client's messages come from. @default {process.stdin} */
  stdin?: Readable;
  /** Where the answers go. @default {process.stdout} */
  stdout?: Writable;
  /** Aborting it ends the session as the end of input does (a client's SIGTERM, say). */
  signal?: AbortSignal;
}

/**
 * Forwards this process's stdio session to `backend` until stdin ends (or the back end closes);
 * resolves then, with both sides closed.
 *
 * @example The body of a stdio proxy command
 * ```ts ignore
 * import { serveStdio } from "@asyncmcp/asyncmcp/proxy";
 *
 * await serveStdio(makeBackendTransport());
 * Deno.exit(0);
 * ```
 */
export async function serveStdio(
  backend: Transport,
  options: StdioProxyOptions = {},
): Promise<void> {
  const stdin = options.stdin ?? process.stdin;
  const front = new StdioServerTransport(stdin, options.stdout ?? process.stdout);
  const session = new ProxySession(front, backend, {
    ...options,
    logger: options.logger ?? consoleLogger(),
  });
  await session.start();
  // EOF on stdin is the client going away: end the back-end session with it.
  const stdinEnded = () => void session.close();
  stdin.once("end", stdinEnded);
  stdin.once("close", stdinEnded);
  options.signal?.addEventListener("abort", stdinEnded, { once: true });
  if (options.signal?.aborted) stdinEnded();
  await session.closed;
}

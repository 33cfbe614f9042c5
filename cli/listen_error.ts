/**
 * The error for a listening socket that cannot be opened, naming the address.
 *
 * @module
 */

/**
 * Turns `Deno.errors.AddrInUse` (whose message names no address) into an error that names
 * `hostname:port` and the flag that changes it; other errors pass unchanged.
 *
 * @example
 * ```ts
 * import { listenError } from "./listen_error.ts";
 *
 * const error = listenError(new Deno.errors.AddrInUse("Address already in use"), "127.0.0.1", 3000, "--port");
 * console.log(error.message); // "Cannot listen on 127.0.0.1:3000 as the address is already in use: ..."
 * ```
 */
export function listenError(error: unknown, hostname: string, port: number, flag: string): Error {
  if (!(error instanceof Deno.errors.AddrInUse)) return error as Error;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return new Error(
    `Cannot listen on ${host}:${port} as the address is already in use: stop what listens there or pick another ${flag}`,
    { cause: error },
  );
}

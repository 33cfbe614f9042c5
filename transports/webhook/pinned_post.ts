/**
 * A POST that connects to addresses chosen beforehand: the host name stays in the URL (for the
 * `Host` header and TLS), but it is not resolved again, so a DNS answer that changed since the
 * address check cannot point the request elsewhere.
 *
 * @module
 */

import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";

/** What {@linkcode pinnedPost} needs besides the URL. */
export interface PinnedPostOptions {
  /** The addresses that passed the check; the first that accepts a connection is used. */
  addresses: readonly string[];
  /** Request headers. */
  headers: Headers;
  /** The body, UTF-8 text. */
  body: string;
  /** Ends the attempt (a timeout, or the sender closing). */
  signal: AbortSignal;
}

/**
 * POSTs `body` to `url` over a connection to one of `addresses`, and resolves with the answer's
 * status and headers once its body has been read and dropped.
 *
 * @example
 * ```ts ignore
 * const { status } = await pinnedPost(new URL("https://client.example.com/hook"), {
 *   addresses: ["93.184.216.34"],
 *   headers: new Headers({ "Content-Type": "application/json" }),
 *   body: "{}",
 *   signal: AbortSignal.timeout(10_000),
 * });
 * ```
 */
export function pinnedPost(
  url: URL,
  options: PinnedPostOptions,
): Promise<{ status: number; headers: Headers }> {
  const { addresses, headers, body, signal } = options;
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    const all = addresses.map((address) => ({
      address,
      family: address.includes(":") ? 6 : 4,
    }));
    if ((lookupOptions as { all?: boolean }).all) callback(null, all);
    else callback(null, all[0].address, all[0].family);
  };
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(url, {
      method: "POST",
      headers: { ...Object.fromEntries(headers), "content-length": String(byteLength(body)) },
      lookup: pinned,
      signal,
      // Connections are not shared: a pinned address belongs to this check only.
      agent: false,
    }, (response) => {
      response.resume();
      response.on("end", () => {
        const answer = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (typeof value === "string") answer.set(name, value);
        }
        resolve({ status: response.statusCode ?? 0, headers: answer });
      });
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}

const encoder = new TextEncoder();

function byteLength(text: string): number {
  return encoder.encode(text).byteLength;
}

/**
 * HTTP calls that never follow a redirect: a server answering 3xx would otherwise get the
 * client's message, with its session secret or bearer token, re-sent to another origin.
 *
 * @module
 */

/**
 * A client's request was answered with a redirect, which asyncmcp does not follow.
 *
 * @example
 * ```ts
 * import { RedirectRefusedError } from "@asyncmcp/asyncmcp/webhook";
 *
 * const error = new RedirectRefusedError("https://mcp.example.com/mcp", 307, "https://elsewhere.example/");
 * console.log(error.status, error.location);
 * ```
 */
export class RedirectRefusedError extends Error {
  /** The redirect's status (0 when the runtime hides it, as browsers do). */
  readonly status: number;
  /** Where the server pointed, when it said. */
  readonly location?: string;

  /** Describes a redirect from `url`. */
  constructor(url: string, status: number, location?: string) {
    super(
      `Cannot follow redirect from ${url} (HTTP ${status}${
        location ? ` to ${location}` : ""
      }): asyncmcp does not follow redirects, which would re-send the message and its secrets ` +
        "to another address; configure the final URL instead",
    );
    this.name = "RedirectRefusedError";
    this.status = status;
    this.location = location ?? undefined;
  }
}

/**
 * Wraps a fetch function so that it never follows a redirect: every request goes out with
 * `redirect: "manual"`, and a 3xx answer rejects with {@linkcode RedirectRefusedError}.
 *
 * @example
 * ```ts
 * import { noRedirectFetch } from "./no_redirect.ts";
 *
 * const safeFetch = noRedirectFetch(fetch);
 * ```
 */
export function noRedirectFetch(
  fetchImpl: (input: Request) => Promise<Response> = (request) => fetch(request),
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const request = new Request(input, { ...init, redirect: "manual" });
    const response = await fetchImpl(request);
    if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
      await response.body?.cancel();
      throw new RedirectRefusedError(
        request.url,
        response.status,
        response.headers.get("location") ?? undefined,
      );
    }
    return response;
  };
}

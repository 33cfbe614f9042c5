/**
 * Counts the AWS API requests a benchmark process sends over `fetch` (asyncmcp's lean hot path,
 * which the SDK middleware that counts the other calls never sees), under the SDK's command names.
 *
 * @module
 */

/**
 * Wraps `globalThis.fetch` so that every request to `endpoint` is passed to `count` as
 * `SendMessageCommand`, `PublishCommand`, ... (from `X-Amz-Target` or the `Action` form field).
 */
export function countFetchRequests(endpoint: string, count: (command: string) => void): void {
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (url.startsWith(endpoint)) {
      const target = new Headers(init?.headers).get("x-amz-target");
      const action = typeof init?.body === "string"
        ? /^Action=(\w+)/.exec(init.body)?.[1]
        : undefined;
      count(`${target?.split(".").pop() ?? action ?? "Unknown"}Command`);
    }
    return original(input, init);
  };
}

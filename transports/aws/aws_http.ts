/**
 * The choice between the lean `fetch` path and the AWS SDK for the hot SQS and SNS calls.
 *
 * @module
 */

import { environmentVariable } from "../../session/runtime.ts";

/**
 * How the hot calls (send, receive, delete, visibility changes, publish) reach AWS: `"fetch"`
 * signs and sends them itself with the SDK client's credentials, region and endpoint; `"sdk"`
 * sends them through the SDK client's `send()`, middleware and all.
 *
 * @example
 * ```ts
 * import type { AwsHttp } from "@asyncmcp/asyncmcp/sqs";
 *
 * const choice: AwsHttp = "sdk";
 * console.log(choice);
 * ```
 */
export type AwsHttp = "fetch" | "sdk";

/**
 * The option of every SQS- and SNS-calling part that picks {@linkcode AwsHttp}.
 *
 * @example Keep a server on the SDK path
 * ```ts
 * import type { AwsHttpOptions } from "@asyncmcp/asyncmcp/sqs";
 *
 * const options: AwsHttpOptions = { awsHttp: "sdk" };
 * console.log(options.awsHttp);
 * ```
 */
export interface AwsHttpOptions {
  /**
   * `"fetch"` for the lean path, `"sdk"` to send every call through the AWS SDK client (for
   * custom middleware, a custom request handler or retry strategy, or proxies configured on it).
   * Queue attributes and provisioning always use the SDK.
   * @default the `ASYNCMCP_AWS_HTTP` environment variable when set, else `"fetch"`
   */
  awsHttp?: AwsHttp;
}

/**
 * The path to use: the option when given, else `ASYNCMCP_AWS_HTTP`, else `"fetch"`.
 *
 * @throws {RangeError} when the option or the variable is neither `"fetch"` nor `"sdk"`.
 *
 * @example
 * ```ts ignore
 * import { resolveAwsHttp } from "./aws_http.ts";
 *
 * console.log(resolveAwsHttp("sdk")); // "sdk"
 * ```
 */
export function resolveAwsHttp(choice?: AwsHttp): AwsHttp {
  const value = choice ?? environmentVariable("ASYNCMCP_AWS_HTTP") ?? "fetch";
  if (value !== "fetch" && value !== "sdk") {
    throw new RangeError(
      `Cannot choose AWS HTTP path as 'awsHttp' must be "fetch" or "sdk": current value is ${value}`,
    );
  }
  return value;
}

/**
 * The calls for `client` on the chosen path, built once per client and path (the fetch path's
 * credentials cache and retry quota are then shared by every inbox and outbox of the client).
 *
 * @example
 * ```ts ignore
 * const calls = callsFor(cache, sqs, options.awsHttp, { fetch: fetchCalls, sdk: sdkCalls });
 * ```
 */
export function callsFor<Client extends object, Calls>(
  cache: WeakMap<Client, Partial<Record<AwsHttp, Calls>>>,
  client: Client,
  awsHttp: AwsHttp | undefined,
  build: Record<AwsHttp, (client: Client) => Calls>,
): Calls {
  const choice = resolveAwsHttp(awsHttp);
  let byChoice = cache.get(client);
  if (!byChoice) cache.set(client, byChoice = {});
  return byChoice[choice] ??= build[choice](client);
}

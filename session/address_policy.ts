/**
 * Which return addresses a server agrees to send to.
 *
 * @module
 */

/**
 * Decides whether a server may send a session's messages to `address` (a queue URL, a topic ARN
 * or a webhook URL): `true` allows it, `false` refuses it, and a string refuses it with that
 * reason, which a sender that waits for a reply (HTTP) is told. Without such a check, anyone who
 * can write to the request queue could make the server write to any queue its credentials reach.
 *
 * @example Allow one fixed reply queue
 * ```ts
 * import type { AddressPolicy } from "@asyncmcp/asyncmcp";
 *
 * const onlyOurs: AddressPolicy = (address) =>
 *   address === "https://sqs.us-east-1.amazonaws.com/123456789012/replies";
 * ```
 */
export type AddressPolicy = (address: string) => AddressVerdict | Promise<AddressVerdict>;

/** What an {@linkcode AddressPolicy} decides: `true` to allow, `false` or a reason to refuse. */
export type AddressVerdict = boolean | string;

/**
 * A policy that allows exactly the listed addresses.
 *
 * @example
 * ```ts
 * import { allowAddresses } from "@asyncmcp/asyncmcp";
 *
 * const policy = allowAddresses(["https://sqs.us-east-1.amazonaws.com/123456789012/replies"]);
 * console.log(policy("https://sqs.us-east-1.amazonaws.com/123456789012/other")); // false
 * ```
 */
export function allowAddresses(addresses: Iterable<string>): AddressPolicy {
  const allowed = new Set(addresses);
  return (address) => allowed.has(address);
}

/**
 * Reading account and region out of SQS queue URLs and SNS topic ARNs, for address policies.
 *
 * @module
 */

import type { AddressPolicy } from "../../session/address_policy.ts";

/** What a queue URL or topic ARN says about where it lives. */
export interface AwsAddress {
  /** The 12-digit account id (`000000000000` on local brokers). */
  account: string;
  /** The region, when the address names one. */
  region?: string;
  /** For URLs, scheme, host and port; compared when neither address names a region. */
  origin?: string;
  /** The queue or topic name. */
  name: string;
  /** For ARNs, the service, e.g. `sns`. */
  service?: string;
}

/**
 * Parses an SQS queue URL such as `https://sqs.us-east-1.amazonaws.com/123456789012/requests`
 * (also the legacy `us-east-1.queue.amazonaws.com` host, LocalStack's and the embedded broker's).
 * Returns undefined for anything else.
 *
 * @example
 * ```ts
 * import { parseQueueUrl } from "@asyncmcp/asyncmcp/sqs";
 *
 * console.log(parseQueueUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/q")?.region);
 * ```
 */
export function parseQueueUrl(queueUrl: string): AwsAddress | undefined {
  // Not `new URL()`: local brokers use hosts like `sqs.us-east-1.127.0.0.1:4566`, which the URL
  // standard rejects as a malformed IPv4 address.
  const match = QUEUE_URL.exec(queueUrl);
  if (!match) return undefined;
  const [, scheme, authority, account, name] = match;
  const host = authority.replace(/:\d+$/, "").toLowerCase();
  const labels = host.split(".");
  let region: string | undefined;
  if (labels[0] === "sqs" && labels.length > 2) region = labels[1];
  else if (labels[1] === "queue" && labels.length > 2) region = labels[0];
  return { account, region, origin: `${scheme.toLowerCase()}://${authority.toLowerCase()}`, name };
}

const QUEUE_URL =
  /^(https?):\/\/([A-Za-z0-9.-]+(?::\d+)?)\/(\d{12})\/([A-Za-z0-9_-]{1,80}(?:\.fifo)?)\/?$/i;

/**
 * Parses an ARN such as `arn:aws:sns:us-east-1:123456789012:replies`. Returns undefined for
 * anything else.
 *
 * @example
 * ```ts
 * import { parseArn } from "@asyncmcp/asyncmcp/sqs";
 *
 * console.log(parseArn("arn:aws:sns:us-east-1:123456789012:replies")?.account);
 * ```
 */
export function parseArn(arn: string): AwsAddress | undefined {
  const parts = arn.split(":");
  if (parts.length < 6 || parts[0] !== "arn" || !/^\d{12}$/.test(parts[4])) return undefined;
  return {
    account: parts[4],
    region: parts[3] || undefined,
    name: parts.slice(5).join(":"),
    service: parts[2],
  };
}

/**
 * The default address policy of the AWS transports: a return address must be in the same account
 * and region as `home` (the server's request queue URL or request topic ARN). Queue URLs that
 * name no region (`http://localhost:4566/000000000000/q`) must share `home`'s origin instead;
 * between such a URL and an ARN only the account is compared.
 *
 * @example
 * ```ts
 * import { sameAccountAndRegion } from "@asyncmcp/asyncmcp/sqs";
 *
 * const policy = sameAccountAndRegion("https://sqs.us-east-1.amazonaws.com/123456789012/requests");
 * console.log(policy("https://sqs.us-east-1.amazonaws.com/123456789012/replies")); // true
 * console.log(policy("https://sqs.us-east-1.amazonaws.com/999999999999/replies")); // false
 * ```
 *
 * @throws {TypeError} when `home` is neither a queue URL nor an ARN.
 */
export function sameAccountAndRegion(home: string): AddressPolicy {
  const own = parseAddress(home);
  if (!own) {
    throw new TypeError(
      `Cannot build address policy as '${home}' is neither an SQS queue URL nor an ARN: pass the server's own queue URL or topic ARN`,
    );
  }
  return (address) => {
    const other = parseAddress(address);
    if (!other || other.account !== own.account) return false;
    if (own.region !== undefined && other.region !== undefined) return own.region === other.region;
    if (own.origin !== undefined && other.origin !== undefined) return own.origin === other.origin;
    // A queue URL that names no region (LocalStack's path style) against an ARN: nothing else
    // to compare, so the account decides.
    return true;
  };
}

function parseAddress(address: string): AwsAddress | undefined {
  return address.startsWith("arn:") ? parseArn(address) : parseQueueUrl(address);
}

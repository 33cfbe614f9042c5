/**
 * Reading account, region and partition out of SQS queue URLs and SNS topic ARNs, and the default
 * address policy of the AWS transports built on them.
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
  /**
   * The AWS partition (`aws`, `aws-cn`, `aws-us-gov`): from an ARN, or from a queue URL on one of
   * AWS's own SQS endpoints. Undefined for other hosts (local brokers).
   */
  partition?: string;
  /** For URLs, scheme, host and port (`https://sqs.us-east-1.amazonaws.com`). */
  origin?: string;
  /** For URLs: true when the host is one of AWS's own SQS endpoints for `region`. */
  canonical?: boolean;
  /** The queue or topic name. */
  name: string;
  /** For ARNs, the service, e.g. `sns`. */
  service?: string;
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

/**
 * AWS's own SQS hosts: `sqs.<region>.amazonaws.com`, its FIPS form `sqs-fips.<region>...`, the
 * dual-stack `sqs.<region>.api.aws`, the legacy `<region>.queue.amazonaws.com`, and the China
 * partition's `.amazonaws.com.cn`. The whole host must match: a look-alike such as
 * `sqs.us-east-1.amazonaws.com.attacker.example` is not one of them.
 */
const CANONICAL_HOSTS = [
  /^sqs(?:-fips)?\.([a-z0-9-]+)\.(amazonaws\.com(?:\.cn)?|api\.aws)$/,
  /^([a-z0-9-]+)\.queue\.(amazonaws\.com(?:\.cn)?)$/,
];

/**
 * Parses an SQS queue URL such as `https://sqs.us-east-1.amazonaws.com/123456789012/requests`
 * (also the legacy `us-east-1.queue.amazonaws.com` host, LocalStack's and the embedded broker's).
 * Returns undefined for anything else.
 *
 * @example
 * ```ts
 * import { parseQueueUrl } from "./aws_address.ts";
 *
 * console.log(parseQueueUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/q")?.region);
 * ```
 */
export function parseQueueUrl(queueUrl: string): AwsAddress | undefined {
  // Not `new URL()`: local brokers use hosts like `sqs.us-east-1.127.0.0.1:4566`, which the URL
  // standard rejects as a malformed IPv4 address.
  const match = QUEUE_URL.exec(queueUrl);
  if (!match) return undefined;
  const [, rawScheme, authority, account, name] = match;
  const scheme = rawScheme.toLowerCase();
  const [host, port] = splitPort(authority.toLowerCase());
  const origin = `${scheme}://${authority.toLowerCase()}`;
  for (const pattern of CANONICAL_HOSTS) {
    const canonical = pattern.exec(host);
    if (!canonical || !REGION.test(canonical[1])) continue;
    // AWS's endpoints speak HTTPS on the default port; anything else is not AWS's.
    if (scheme !== "https" || (port !== undefined && port !== "443")) break;
    const region = canonical[1];
    return {
      account,
      region,
      partition: partitionOf(region, canonical[2]),
      origin,
      canonical: true,
      name,
    };
  }
  // Local brokers name the region the same way (`sqs.us-east-1.localhost.localstack.cloud`).
  const labels = host.split(".");
  const region = labels[0] === "sqs" && labels.length > 2 && REGION.test(labels[1])
    ? labels[1]
    : undefined;
  return { account, region, origin, canonical: false, name };
}

const QUEUE_URL =
  /^(https?):\/\/([A-Za-z0-9.-]+(?::\d+)?)\/(\d{12})\/([A-Za-z0-9_-]{1,80}(?:\.fifo)?)\/?$/i;

/**
 * Parses an ARN such as `arn:aws:sns:us-east-1:123456789012:replies`. Returns undefined for
 * anything else.
 *
 * @example
 * ```ts
 * import { parseArn } from "./aws_address.ts";
 *
 * console.log(parseArn("arn:aws:sns:us-east-1:123456789012:replies")?.account);
 * ```
 */
export function parseArn(arn: string): AwsAddress | undefined {
  const parts = arn.split(":");
  if (parts.length < 6 || parts[0] !== "arn" || !/^\d{12}$/.test(parts[4])) return undefined;
  if (!/^aws(?:-[a-z-]+)?$/.test(parts[1]) || !/^[a-z0-9-]+$/.test(parts[2])) return undefined;
  return {
    account: parts[4],
    region: parts[3] || undefined,
    partition: parts[1],
    name: parts.slice(5).join(":"),
    service: parts[2],
  };
}

/**
 * The default address policy of the AWS transports: a return address must belong to the same
 * account as `home` (the server's request queue URL or request topic ARN) and be reachable only
 * where `home` is:
 *
 * - a queue URL on `home`'s own origin (scheme, host and port: the endpoint the server already
 *   uses, such as a local broker's), or on one of AWS's own SQS endpoints (`sqs.<region>.amazonaws.com`,
 *   `sqs-fips.`, `.api.aws`, `<region>.queue.amazonaws.com`) of `home`'s partition and region when
 *   `home` is on one too;
 * - an ARN of `home`'s partition and region (and service, when `home` is an ARN).
 *
 * Anything else is refused with the reason, before any request is made: the AWS SDK sends a
 * queue's messages to the host its URL names when the client has no fixed endpoint, so a
 * look-alike host would receive signed requests carrying MCP results.
 *
 * @example
 * ```ts
 * import { sameAccountAndRegion } from "@asyncmcp/asyncmcp/sqs";
 *
 * const policy = sameAccountAndRegion("https://sqs.us-east-1.amazonaws.com/123456789012/requests");
 * console.log(policy("https://sqs.us-east-1.amazonaws.com/123456789012/replies")); // true
 * console.log(policy("https://sqs.us-east-1.amazonaws.com/999999999999/replies")); // "... another account ..."
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
    const why = other ? mismatch(own, other) : "it is neither an SQS queue URL nor an ARN";
    if (why === undefined) return true;
    return `Cannot use return address ${address} as ${why}: use a queue or topic of account ` +
      `${own.account}${own.region ? ` in ${own.region}` : ""} on this server's endpoint`;
  };
}

/** Why `other` is not where `own` is, or undefined when it is (see sameAccountAndRegion). */
function mismatch(own: AwsAddress, other: AwsAddress): string | undefined {
  if (other.account !== own.account) return "it belongs to another account";
  if (other.origin !== undefined) {
    if (other.origin === own.origin) return undefined;
    if (!other.canonical) return "its host is neither this server's endpoint nor AWS's own";
    if (own.partition === undefined) return "this server does not use AWS's own endpoints";
  } else if (own.service !== undefined && other.service !== own.service) {
    return `it is for ${other.service}, not ${own.service}`;
  } else if (own.partition === undefined) {
    // A local broker's queue URL: only the region it names can be compared with an ARN.
    return own.region !== undefined && other.region !== own.region
      ? `it is in region ${other.region}, not ${own.region}`
      : undefined;
  }
  if (other.partition !== own.partition) {
    return `it is in partition ${other.partition}, not ${own.partition}`;
  }
  if (other.region !== own.region) return `it is in region ${other.region}, not ${own.region}`;
  return undefined;
}

function parseAddress(address: string): AwsAddress | undefined {
  return address.startsWith("arn:") ? parseArn(address) : parseQueueUrl(address);
}

function splitPort(authority: string): [string, string | undefined] {
  const colon = authority.lastIndexOf(":");
  return colon === -1 ? [authority, undefined] : [
    authority.slice(0, colon),
    authority.slice(colon + 1),
  ];
}

function partitionOf(region: string, domain: string): string {
  if (domain === "amazonaws.com.cn" || region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

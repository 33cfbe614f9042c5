/**
 * Which webhook URLs a server may POST to: public `http:`/`https:` addresses only, unless allowed
 * explicitly, so that a client cannot point the server at its own network (SSRF).
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import type { AddressPolicy } from "../../session/address_policy.ts";

/** Options for {@linkcode checkWebhookUrl} and {@linkcode webhookUrlPolicy}. */
export interface WebhookUrlPolicyOptions {
  /**
   * Hosts (names or IP literals, matched exactly, without port) allowed whatever they resolve to,
   * e.g. `["127.0.0.1"]` for local development and tests.
   */
  allowHosts?: Iterable<string>;
  /** Any further URL this predicate accepts is allowed. */
  allow?: (url: URL) => boolean;
  /**
   * Addresses allowed although they are in a restricted range, such as one known internal
   * receiver (`(ip) => ip === "10.0.0.5"`); a name must still resolve to allowed addresses only.
   */
  allowAddress?: (ip: string) => boolean;
  /**
   * Resolves a host name to its addresses.
   * @default the system resolver (`node:dns` lookup, every A and AAAA address)
   */
  resolve?: (hostname: string) => Promise<string[]>;
}

/**
 * The verdict of {@linkcode checkWebhookUrl}. When the URL names a host that was resolved,
 * `addresses` are the addresses that passed: deliveries connect to those, so that a DNS answer
 * that changes after the check cannot send them elsewhere.
 */
export type WebhookUrlVerdict =
  | { ok: true; addresses?: string[] }
  | { ok: false; reason: string };

/**
 * An {@linkcode AddressPolicy} for webhook URLs that can also vet a URL again just before a
 * delivery and say which addresses to connect to (see {@linkcode webhookUrlPolicy}).
 */
export type WebhookUrlPolicy = AddressPolicy & {
  /** Checks `url` now; a passing verdict carries the addresses to connect to, if resolved. */
  readonly vet: (url: string) => Promise<WebhookUrlVerdict>;
};

/**
 * Checks a webhook URL: `http:` or `https:`, and a host that is neither a name for this machine
 * nor an address that is loopback, private, link-local (the cloud metadata service among them),
 * carrier-grade NAT, multicast or reserved. A host name must resolve, and every address it
 * resolves to must pass.
 *
 * @example
 * ```ts
 * import { checkWebhookUrl } from "@asyncmcp/asyncmcp/webhook";
 *
 * console.log(await checkWebhookUrl("http://169.254.169.254/latest/meta-data"));
 * // { ok: false, reason: "... 169.254.169.254 is a link-local address" }
 * ```
 */
export async function checkWebhookUrl(
  address: string,
  options: WebhookUrlPolicyOptions = {},
): Promise<WebhookUrlVerdict> {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return refuse(address, "it is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return refuse(address, `its scheme is ${url.protocol.slice(0, -1)}, not http or https`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (new Set(options.allowHosts ?? []).has(host) || options.allow?.(url)) return { ok: true };
  if (host === "localhost" || host.endsWith(".localhost")) {
    return refuse(address, `${host} names this machine`);
  }
  let addresses: string[];
  if (isIpLiteral(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await (options.resolve ?? resolveDns)(host);
    } catch (error) {
      return refuse(address, `${host} does not resolve (${String(error)})`);
    }
    if (addresses.length === 0) return refuse(address, `${host} does not resolve`);
  }
  if (isIpLiteral(host) && options.allowAddress?.(host)) return { ok: true };
  for (const ip of addresses) {
    const kind = restrictedKind(ip);
    if (kind && !options.allowAddress?.(ip)) {
      return refuse(address, `${ip} is ${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind} address`);
    }
  }
  return isIpLiteral(host) ? { ok: true } : { ok: true, addresses };
}

/**
 * The default address policy of webhook servers, as an {@linkcode AddressPolicy}: see
 * {@linkcode checkWebhookUrl}. Its `vet` checks a URL again before each delivery (the webhook
 * servers do so, caching a verdict for a minute) and pins the delivery to the addresses that
 * passed.
 *
 * @example Allow loopback for local development
 * ```ts
 * import { webhookUrlPolicy } from "@asyncmcp/asyncmcp/webhook";
 *
 * const policy = webhookUrlPolicy({ allowHosts: ["127.0.0.1"] });
 * console.log(await policy("http://127.0.0.1:8787/hook")); // true
 * ```
 */
export function webhookUrlPolicy(options: WebhookUrlPolicyOptions = {}): WebhookUrlPolicy {
  const policy = async (address: string) => {
    const verdict = await checkWebhookUrl(address, options);
    return verdict.ok || verdict.reason;
  };
  return Object.assign(policy, { vet: (url: string) => checkWebhookUrl(url, options) });
}

/**
 * The `vet` of a policy made by {@linkcode webhookUrlPolicy}, for the webhook outbox; undefined
 * for other policies (their verdicts are taken when a session begins, and not again).
 *
 * @example
 * ```ts
 * import { webhookUrlPolicy } from "@asyncmcp/asyncmcp/webhook";
 * import { vetOf } from "./webhook_address_policy.ts";
 *
 * console.log(typeof vetOf(webhookUrlPolicy())); // "function"
 * ```
 */
export function vetOf(
  policy: AddressPolicy,
): ((url: string) => Promise<WebhookUrlVerdict>) | undefined {
  return (policy as Partial<WebhookUrlPolicy>).vet;
}

function refuse(address: string, why: string): WebhookUrlVerdict {
  return { ok: false, reason: `Cannot deliver to webhook URL ${address} as ${why}` };
}

async function resolveDns(hostname: string): Promise<string[]> {
  // The resolver HTTP clients use (hosts file included), so that the check sees what they would.
  const found = await lookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => entry.address);
}

function isIpLiteral(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(":");
}

/** The kind of restricted range `ip` is in, or undefined for a public address. */
function restrictedKind(ip: string): string | undefined {
  const v4 = ip.match(/^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    if (a === 127) return "loopback";
    if (a === 0) return "unspecified";
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private";
    if (a === 169 && b === 254) return "link-local";
    if (a === 100 && b >= 64 && b <= 127) return "carrier-grade NAT";
    if (a === 198 && (b === 18 || b === 19)) return "benchmarking";
    const c = Number(v4[3]);
    if ((a === 192 && b === 0 && c === 2) || (a === 198 && b === 51 && c === 100)) {
      return "documentation";
    }
    if (a === 203 && b === 0 && c === 113) return "documentation";
    if (a === 192 && b === 0 && c === 0) return "reserved";
    if (a >= 224) return a < 240 ? "multicast" : "reserved";
    return undefined;
  }
  const groups = ipv6Groups(ip.toLowerCase());
  if (!groups) return "unparsable";
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups;
  const embedded = (high: number, low: number) =>
    restrictedKind(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
  const zeroTo = (end: number) => groups.slice(0, end).every((group) => group === 0);
  if (zeroTo(7) && g7 === 1) return "loopback";
  if (zeroTo(8)) return "unspecified";
  // IPv4 inside IPv6: compatible (::a.b.c.d), mapped (::ffff:a.b.c.d), translated
  // (::ffff:0:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:a.b.c.d::) reach the IPv4 address.
  if (zeroTo(6) || (zeroTo(5) && g5 === 0xffff) || (zeroTo(4) && g4 === 0xffff && g5 === 0)) {
    return embedded(g6, g7);
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return embedded(g6, g7);
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return "local NAT64";
  if (g0 === 0x2002) return embedded(g1, g2);
  if ((g0 & 0xfe00) === 0xfc00) return "private"; // fc00::/7, AWS's metadata fd00:ec2::254 among them
  if ((g0 & 0xffc0) === 0xfe80) return "link-local";
  if ((g0 & 0xffc0) === 0xfec0) return "site-local";
  if ((g0 & 0xff00) === 0xff00) return "multicast";
  if (g0 === 0x2001 && g1 === 0xdb8) return "documentation";
  if (g0 === 0x100 && zeroTo(4) && g1 === 0) return "discard";
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (with an IPv4 tail or `::`), or undefined. */
function ipv6Groups(ip: string): number[] | undefined {
  let text = ip;
  const v4Tail = text.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (v4Tail) {
    const [a, b, c, d] = v4Tail.slice(1).map(Number);
    text = text.slice(0, v4Tail.index) +
      `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) =>
    part === "" ? [] : part.split(":").map((group) => parseInt(group, 16));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff)
    ? groups
    : undefined;
}

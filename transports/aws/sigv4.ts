/**
 * AWS Signature Version 4 for the hot SQS and SNS calls: synchronous `node:crypto` hashing and a
 * signing key derived once per day, region and service instead of four HMACs per request.
 *
 * @module
 */

import { createHash, createHmac } from "node:crypto";

/**
 * The keys a request is signed with (the AWS SDK's `AwsCredentialIdentity` fits).
 *
 * @example
 * ```ts ignore
 * const credentials: SigV4Credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" };
 * ```
 */
export interface SigV4Credentials {
  /** The access key id, named in the `Credential=` part of the signature. */
  accessKeyId: string;
  /** The secret key the signing key is derived from. */
  secretAccessKey: string;
  /** The session token of temporary credentials; sent and signed as `x-amz-security-token`. */
  sessionToken?: string;
}

/**
 * The parts of an HTTP request that SigV4 signs.
 *
 * @example
 * ```ts ignore
 * const request: SignableRequest = {
 *   method: "POST",
 *   host: "sns.us-east-1.amazonaws.com",
 *   path: "/",
 *   headers: { "content-type": "application/x-www-form-urlencoded" },
 *   body: "Action=Publish&Version=2010-03-31",
 * };
 * ```
 */
export interface SignableRequest {
  /** The HTTP method, e.g. `POST`. */
  method: string;
  /** The `Host` header as sent: host name, and the port when it is not the default one. */
  host: string;
  /** The path as it appears on the request line, e.g. `/`. */
  path: string;
  /** The query string as sent, without `?`. @default {""} */
  query?: string;
  /**
   * Headers to sign besides `host`, `x-amz-date` and `x-amz-security-token` (which the signer
   * adds). A name given twice is signed with its values joined by commas, as HTTP merges them.
   */
  headers: Record<string, string> | ReadonlyArray<readonly [string, string]>;
  /** The request body. */
  body: string;
}

/**
 * Options for {@linkcode SigV4Signer}.
 *
 * @example
 * ```ts ignore
 * const signer = new SigV4Signer({ service: "sqs", region: "eu-west-1" } satisfies SigV4SignerOptions);
 * ```
 */
export interface SigV4SignerOptions {
  /** The signing name of the service, e.g. `sqs` or `sns`. */
  service: string;
  /** The region to sign for, e.g. `us-east-1`. */
  region: string;
}

const ALGORITHM = "AWS4-HMAC-SHA256";

/**
 * Signs requests with AWS Signature Version 4 (header form). The signing key depends only on
 * the secret key, the day, the region and the service, so it is derived once and reused until
 * one of them changes; each request then costs two SHA-256 hashes and one HMAC.
 *
 * @example Sign an SQS request
 * ```ts ignore
 * import { SigV4Signer } from "./sigv4.ts";
 *
 * const signer = new SigV4Signer({ service: "sqs", region: "us-east-1" });
 * const headers = signer.sign({
 *   method: "POST",
 *   host: "sqs.us-east-1.amazonaws.com",
 *   path: "/",
 *   headers: { "content-type": "application/x-amz-json-1.0" },
 *   body: "{}",
 * }, { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" });
 * console.log(headers.authorization.startsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
 * ```
 */
export class SigV4Signer {
  #service: string;
  #region: string;
  #keyFor = "";
  #key?: Uint8Array;

  /** Signs for one service in one region. */
  constructor(options: SigV4SignerOptions) {
    this.#service = options.service;
    this.#region = options.region;
  }

  /**
   * Returns the headers to send with `request`: `x-amz-date`, `authorization`, and
   * `x-amz-security-token` for temporary credentials.
   *
   * @param date The signing time; pass the clock corrected for skew when the client has one.
   */
  sign(
    request: SignableRequest,
    credentials: SigV4Credentials,
    date: Date = new Date(),
  ): Record<string, string> {
    const amzDate = date.toISOString().replace(/[-:]|\.\d{3}/g, "");
    const day = amzDate.slice(0, 8);
    const added: Record<string, string> = { "x-amz-date": amzDate };
    if (credentials.sessionToken) added["x-amz-security-token"] = credentials.sessionToken;
    const headers = canonicalHeaders(request, added);
    const names = [...headers.keys()].sort();
    let canonical = `${request.method}\n${canonicalPath(request.path)}\n` +
      `${canonicalQuery(request.query ?? "")}\n`;
    for (const name of names) canonical += `${name}:${headers.get(name)}\n`;
    const signedHeaders = names.join(";");
    canonical += `\n${signedHeaders}\n${sha256Hex(request.body)}`;
    const scope = `${day}/${this.#region}/${this.#service}/aws4_request`;
    const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
    const signature = createHmac("sha256", this.#signingKey(credentials.secretAccessKey, day))
      .update(stringToSign).digest("hex");
    added.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, ` +
      `SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return added;
  }

  #signingKey(secret: string, day: string): Uint8Array {
    const keyFor = `${day}\n${secret}`;
    if (this.#key && this.#keyFor === keyFor) return this.#key;
    let key: Uint8Array = hmac(`AWS4${secret}`, day);
    for (const part of [this.#region, this.#service, "aws4_request"]) key = hmac(key, part);
    this.#keyFor = keyFor;
    this.#key = key;
    return key;
  }
}

function hmac(key: string | Uint8Array, data: string): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}

function sha256Hex(data: string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Lower-case names, values trimmed with runs of white space folded, repeated names joined. */
function canonicalHeaders(
  request: SignableRequest,
  added: Record<string, string>,
): Map<string, string> {
  const headers = new Map<string, string>([["host", request.host]]);
  const given = Array.isArray(request.headers)
    ? request.headers
    : Object.entries(request.headers as Record<string, string>);
  for (const [rawName, rawValue] of given) {
    const name = rawName.toLowerCase();
    if (name in added) continue;
    const value = rawValue.replace(/[ \t\r\n]+/g, " ").trim();
    const earlier = name === "host" ? undefined : headers.get(name);
    headers.set(name, earlier === undefined ? value : `${earlier},${value}`);
  }
  for (const [name, value] of Object.entries(added)) headers.set(name, value);
  return headers;
}

/**
 * The path with `.` and `..` segments resolved and empty segments dropped, each segment
 * percent-encoded once more: services other than S3 sign the path encoded twice.
 */
function canonicalPath(path: string): string {
  if (path === "/" || path === "") return "/";
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(uriEncode(segment));
  }
  const trailing = segments.length > 0 && path.endsWith("/") ? "/" : "";
  return `/${segments.join("/")}${trailing}`;
}

/** Parameters decoded, then encoded the SigV4 way and sorted by name, then value. */
function canonicalQuery(query: string): string {
  if (query === "") return "";
  const pairs: Array<[string, string]> = [];
  for (const part of query.split("&")) {
    if (part === "") continue;
    const equals = part.indexOf("=");
    const name = equals < 0 ? part : part.slice(0, equals);
    const value = equals < 0 ? "" : part.slice(equals + 1);
    pairs.push([uriEncode(safeDecode(name)), uriEncode(safeDecode(value))]);
  }
  pairs.sort(([a, x], [b, y]) => a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0);
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A lone `%` is not an escape; sign it as the character it is.
    return text;
  }
}

/** RFC 3986 encoding: everything but `A-Z a-z 0-9 - _ . ~` becomes `%XX` (upper-case hex). */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

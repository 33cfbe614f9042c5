/**
 * Signing and verifying webhook deliveries in the Standard Webhooks format: headers
 * `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">` (README: Wire format).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

/** The three headers of a signed delivery. */
export interface SignatureHeaders {
  /** The delivery's id; the same on every retry of it. */
  "webhook-id": string;
  /** When this attempt was signed, in epoch seconds. */
  "webhook-timestamp": string;
  /** `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`. */
  "webhook-signature": string;
}

/** Options for {@linkcode WebhookVerifier}. */
export interface WebhookVerifierOptions {
  /** How far a delivery's timestamp may be from now, in seconds. @default {300} */
  toleranceSeconds?: number;
  /** How many recent delivery ids are remembered to refuse replays. @default {10000} */
  rememberedIds?: number;
  /** The clock, in epoch milliseconds. @default {Date.now} */
  now?: () => number;
}

/** A delivery whose signature and timestamp checked out. */
export interface VerifiedDelivery {
  /** Its `webhook-id`, the same on every retry. */
  id: string;
  /** Its `webhook-timestamp`, in epoch seconds. */
  seconds: number;
}

/** Why {@linkcode WebhookVerifier.verify} refused a delivery. */
export type VerificationFailure = "unsigned" | "malformed" | "stale" | "mismatch" | "replayed";

/**
 * Thrown for a delivery that must not be accepted; `reason` says which check failed.
 *
 * @example
 * ```ts
 * import { WebhookVerificationError } from "@asyncmcp/asyncmcp/webhook";
 *
 * const error = new WebhookVerificationError("stale", "Cannot accept delivery as it is too old");
 * console.log(error.reason); // "stale"
 * ```
 */
export class WebhookVerificationError extends Error {
  /** Which check failed. */
  readonly reason: VerificationFailure;

  /** Creates the error for `reason`. */
  constructor(reason: VerificationFailure, message: string) {
    super(message);
    this.name = "WebhookVerificationError";
    this.reason = reason;
  }
}

const encoder = new TextEncoder();

/**
 * An HMAC-SHA256 key for signing and verifying deliveries. Made from a secret, in the Standard
 * Webhooks form `whsec_<base64>` or any other string (whose UTF-8 bytes are the key), or from a
 * Web Crypto key. Secrets are hashed synchronously in native code (`node:crypto`): Web Crypto
 * runs each HMAC on a worker thread, which on a busy 2-core machine put milliseconds into the
 * slowest percent of deliveries.
 *
 * @example
 * ```ts
 * import { WebhookSigningKey } from "@asyncmcp/asyncmcp/webhook";
 *
 * const key = new WebhookSigningKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
 * const mac = await key.sign("msg_1.1700000000.{}");
 * console.log(await key.verify(mac, "msg_1.1700000000.{}")); // true
 * ```
 */
export class WebhookSigningKey {
  #secret?: Uint8Array;
  #cryptoKey?: CryptoKey;

  /**
   * Makes the key from a secret or a Web Crypto HMAC key.
   *
   * @throws {TypeError} when the secret is empty or its `whsec_` part is not base64.
   */
  constructor(key: string | CryptoKey) {
    if (typeof key !== "string") {
      this.#cryptoKey = key;
      return;
    }
    if (key === "") {
      throw new TypeError(
        "Cannot use webhook secret as it is empty: pass at least 16 random bytes",
      );
    }
    if (key.startsWith("whsec_")) {
      const bytes = fromBase64(key.slice(6));
      if (!bytes || bytes.length === 0) {
        throw new TypeError("Cannot use webhook secret as its whsec_ part is not base64");
      }
      this.#secret = bytes;
    } else {
      this.#secret = encoder.encode(key);
    }
  }

  /** The HMAC-SHA256 of `data`'s UTF-8 bytes. */
  async sign(data: string): Promise<Uint8Array> {
    if (this.#secret) return createHmac("sha256", this.#secret).update(data).digest();
    return new Uint8Array(await crypto.subtle.sign("HMAC", this.#cryptoKey!, encoder.encode(data)));
  }

  /** Whether `mac` is the HMAC-SHA256 of `data`, compared in constant time. */
  async verify(mac: Uint8Array, data: string): Promise<boolean> {
    if (this.#secret) {
      const expected = createHmac("sha256", this.#secret).update(data).digest();
      return expected.length === mac.length && timingSafeEqual(expected, mac);
    }
    return await crypto.subtle.verify(
      "HMAC",
      this.#cryptoKey!,
      mac as Uint8Array<ArrayBuffer>,
      encoder.encode(data),
    );
  }
}

/** What signs or verifies: a secret, a Web Crypto HMAC key or a {@linkcode WebhookSigningKey}. */
export type SigningKeyInput = string | CryptoKey | WebhookSigningKey;

/**
 * The {@linkcode WebhookSigningKey} for `key` (itself when it already is one).
 *
 * @example
 * ```ts
 * import { signingKeyOf } from "./webhook_signature.ts";
 *
 * const key = signingKeyOf("a secret of at least sixteen bytes");
 * ```
 *
 * @throws {TypeError} when a secret is empty or its `whsec_` part is not base64.
 */
export function signingKeyOf(key: SigningKeyInput): WebhookSigningKey {
  return key instanceof WebhookSigningKey ? key : new WebhookSigningKey(key);
}

/**
 * Signs `body` for delivery: returns the three headers to send with it. `id` must be unique per
 * message (retries of the same message reuse it); `timestamp` is in epoch seconds.
 *
 * @example
 * ```ts
 * import { signDelivery } from "@asyncmcp/asyncmcp/webhook";
 *
 * const headers = await signDelivery(
 *   "a secret of at least sixteen bytes",
 *   crypto.randomUUID(),
 *   '{"jsonrpc":"2.0","method":"x"}',
 * );
 * console.log(headers["webhook-signature"].startsWith("v1,"));
 * ```
 */
export async function signDelivery(
  key: SigningKeyInput,
  id: string,
  body: string,
  timestamp: number = Math.floor(Date.now() / 1000),
): Promise<SignatureHeaders> {
  const mac = await signingKeyOf(key).sign(`${id}.${timestamp}.${body}`);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${toBase64(mac)}`,
  };
}

/**
 * Checks signed deliveries: signature (any of the space-separated `v1,` values may match, as
 * during key rotation), timestamp within the tolerance, and id not seen before.
 *
 * @example Verify what a sender signed
 * ```ts
 * import { signDelivery, WebhookSigningKey, WebhookVerifier } from "@asyncmcp/asyncmcp/webhook";
 *
 * const key = new WebhookSigningKey("a secret of at least sixteen bytes");
 * const body = '{"jsonrpc":"2.0","method":"notifications/progress"}';
 * const headers = new Headers({ ...(await signDelivery(key, "msg-1", body)) });
 * await new WebhookVerifier(key).verify(headers, body); // throws if it does not check out
 * ```
 */
export class WebhookVerifier {
  #key: WebhookSigningKey;
  #toleranceSeconds: number;
  #rememberedIds: number;
  #now: () => number;
  /** Accepted ids with the time until which a replay of them would still be in tolerance. */
  #seen = new Map<string, number>();

  /** Verifies with `key`. */
  constructor(key: SigningKeyInput, options: WebhookVerifierOptions = {}) {
    this.#key = signingKeyOf(key);
    this.#toleranceSeconds = options.toleranceSeconds ?? 300;
    this.#rememberedIds = options.rememberedIds ?? 10_000;
    this.#now = options.now ?? Date.now;
    if (!(this.#toleranceSeconds > 0)) {
      throw new RangeError(
        `Cannot create verifier as 'toleranceSeconds' must be positive: current value is ${this.#toleranceSeconds}`,
      );
    }
  }

  /**
   * Resolves when the delivery is authentic, fresh and new; remembers its id.
   *
   * @throws {WebhookVerificationError} naming the check that failed.
   */
  async verify(headers: Headers, body: string): Promise<void> {
    const delivery = await this.check(headers, body);
    if (this.seen(delivery.id)) {
      throw new WebhookVerificationError(
        "replayed",
        `Cannot accept delivery as id ${delivery.id} was already accepted`,
      );
    }
    this.remember(delivery);
  }

  /**
   * Checks signature and timestamp only, for receivers that remember an id once they have
   * accepted the delivery (a retry of one they refused must still get in); returns the id.
   *
   * @throws {WebhookVerificationError} naming the check that failed (never `replayed`).
   */
  async check(headers: Headers, body: string): Promise<VerifiedDelivery> {
    const id = headers.get("webhook-id");
    const timestamp = headers.get("webhook-timestamp");
    const signatures = headers.get("webhook-signature");
    if (!id || !timestamp || !signatures) {
      throw new WebhookVerificationError(
        "unsigned",
        "Cannot accept delivery as it is not signed: webhook-id, webhook-timestamp and webhook-signature are required",
      );
    }
    const seconds = Number(timestamp);
    if (!/^\d+$/.test(timestamp) || !Number.isSafeInteger(seconds)) {
      throw new WebhookVerificationError(
        "malformed",
        `Cannot accept delivery as its timestamp is not whole epoch seconds: ${timestamp}`,
      );
    }
    const nowSeconds = this.#now() / 1000;
    if (Math.abs(nowSeconds - seconds) > this.#toleranceSeconds) {
      throw new WebhookVerificationError(
        "stale",
        `Cannot accept delivery as its timestamp is more than ${this.#toleranceSeconds} s from now`,
      );
    }
    const signed = `${id}.${timestamp}.${body}`;
    let matched = false;
    for (const candidate of signatures.split(" ")) {
      const [version, value] = candidate.split(",", 2);
      if (version !== "v1" || !value) continue;
      const mac = fromBase64(value);
      if (mac && await this.#key.verify(mac, signed)) {
        matched = true;
        break;
      }
    }
    if (!matched) {
      throw new WebhookVerificationError(
        "mismatch",
        "Cannot accept delivery as its signature does not match: check that both sides use the same secret",
      );
    }
    return { id, seconds };
  }

  /** Whether a delivery with this id was accepted (and is still within the tolerance). */
  seen(id: string): boolean {
    this.#forgetExpired(this.#now() / 1000);
    return this.#seen.has(id);
  }

  /** Remembers an accepted delivery, so that a replay of it is recognised. */
  remember(delivery: VerifiedDelivery): void {
    this.#seen.set(delivery.id, delivery.seconds + this.#toleranceSeconds);
    if (this.#seen.size > this.#rememberedIds) {
      this.#seen.delete(this.#seen.keys().next().value!);
    }
  }

  #forgetExpired(nowSeconds: number): void {
    for (const [id, until] of this.#seen) {
      // Insertion order is roughly time order: stop at the first one still worth remembering.
      if (until >= nowSeconds) break;
      this.#seen.delete(id);
    }
  }
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function fromBase64(text: string): Uint8Array | undefined {
  // Not Buffer.from: it skips what is not base64, where a signature check must refuse it.
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

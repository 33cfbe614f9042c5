import assert from "node:assert/strict";
import {
  signDelivery,
  WebhookSigningKey,
  WebhookVerificationError,
  WebhookVerifier,
} from "../transports/webhook/webhook_signature.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const BODY = '{"jsonrpc":"2.0","id":1,"result":{}}';

async function signed(body = BODY, id = "msg_1", timestamp?: number): Promise<Headers> {
  const key = new WebhookSigningKey(SECRET);
  return new Headers({ ...(await signDelivery(key, id, body, timestamp)) });
}

function verifier(options = {}): WebhookVerifier {
  return new WebhookVerifier(SECRET, options);
}

function refusedFor(reason: string) {
  return (error: unknown) => {
    assert.ok(error instanceof WebhookVerificationError);
    assert.equal(error.reason, reason);
    return true;
  };
}

Deno.test("signDelivery() matches the Standard Webhooks reference signature", async () => {
  // The example in the Standard Webhooks specification: this secret, id, timestamp and body.
  const key = new WebhookSigningKey(SECRET);
  const headers = await signDelivery(
    key,
    "msg_p5jXN8AQM9LWM0D4loKWxJek",
    '{"test": 2432232314}',
    1614265330,
  );
  assert.equal(headers["webhook-signature"], "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
});

Deno.test("WebhookVerifier accepts a delivery signed with the same secret", async () => {
  await (verifier()).verify(await signed(), BODY);
});

Deno.test("WebhookVerifier refuses an unsigned delivery", async () => {
  await assert.rejects((verifier()).verify(new Headers(), BODY), refusedFor("unsigned"));
});

Deno.test("WebhookVerifier refuses a tampered body", async () => {
  await assert.rejects(
    (verifier()).verify(await signed(), BODY.replace("{}", '{"x":1}')),
    refusedFor("mismatch"),
  );
});

Deno.test("WebhookVerifier refuses a delivery signed with another secret", async () => {
  const other = new WebhookSigningKey("a different secret entirely");
  const headers = new Headers({ ...(await signDelivery(other, "msg_2", BODY)) });
  await assert.rejects((verifier()).verify(headers, BODY), refusedFor("mismatch"));
});

Deno.test("WebhookVerifier refuses a delivery older than the tolerance", async () => {
  const sixMinutesAgo = Math.floor(Date.now() / 1000) - 360;
  await assert.rejects(
    (verifier()).verify(await signed(BODY, "msg_3", sixMinutesAgo), BODY),
    refusedFor("stale"),
  );
});

Deno.test("WebhookVerifier refuses a delivery dated further in the future than the tolerance", async () => {
  const sixMinutesAhead = Math.floor(Date.now() / 1000) + 360;
  await assert.rejects(
    (verifier()).verify(await signed(BODY, "msg_5", sixMinutesAhead), BODY),
    refusedFor("stale"),
  );
});

Deno.test("WebhookVerifier accepts a clock a little ahead, within the tolerance", async () => {
  const oneMinuteAhead = Math.floor(Date.now() / 1000) + 60;
  await (verifier()).verify(await signed(BODY, "msg_6", oneMinuteAhead), BODY);
});

Deno.test("WebhookVerifier refuses the same delivery twice", async () => {
  const check = await verifier();
  const headers = await signed(BODY, "msg_4");
  await check.verify(headers, BODY);
  await assert.rejects(check.verify(headers, BODY), refusedFor("replayed"));
});

Deno.test("WebhookVerifier accepts any matching signature of several, as during key rotation", async () => {
  const headers = await signed(BODY, "msg_5");
  headers.set("webhook-signature", `v1,bm90IGl0 ${headers.get("webhook-signature")}`);
  await (verifier()).verify(headers, BODY);
});

Deno.test("WebhookVerifier refuses a timestamp that is not whole seconds", async () => {
  const headers = await signed(BODY, "msg_6");
  headers.set("webhook-timestamp", "12.5");
  await assert.rejects((verifier()).verify(headers, BODY), refusedFor("malformed"));
});

Deno.test("WebhookSigningKey throws a TypeError for an empty secret", () => {
  assert.throws(() => new WebhookSigningKey(""), TypeError);
});

Deno.test("WebhookSigningKey throws a TypeError for a whsec_ secret that is not base64", () => {
  assert.throws(() => new WebhookSigningKey("whsec_not base64!"), /not base64/);
});

Deno.test("a Web Crypto key and the same secret sign and verify alike", async () => {
  const bytes = Uint8Array.from(atob(SECRET.slice(6)), (char) => char.charCodeAt(0));
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    bytes,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  const fromCrypto = await signDelivery(cryptoKey, "msg_3", BODY, 1_700_000_000);
  const fromSecret = await signDelivery(SECRET, "msg_3", BODY, 1_700_000_000);
  assert.equal(fromCrypto["webhook-signature"], fromSecret["webhook-signature"]);
  const now = () => 1_700_000_000_000;
  await new WebhookVerifier(cryptoKey, { now }).verify(new Headers({ ...fromSecret }), BODY);
});

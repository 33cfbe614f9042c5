import assert from "node:assert/strict";
import type { Envelope } from "../session/envelope.ts";
import { silentLogger } from "../session/logger.ts";
import {
  WebhookDeliveryError,
  type WebhookDeliveryFailure,
  WebhookOutbox,
  type WebhookOutboxOptions,
} from "../transports/webhook/webhook_outbox.ts";
import { WebhookSigningKey, WebhookVerifier } from "../transports/webhook/webhook_signature.ts";

interface Received {
  body: string;
  headers: Headers;
}

/** A real HTTP receiver on 127.0.0.1 that answers with `respond` and records what it accepted. */
function receiver(
  respond: (request: Request, attempt: number) => Response | Promise<Response> = () =>
    new Response(null, { status: 204 }),
  port = 0,
) {
  const accepted: Received[] = [];
  let attempt = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (request) => {
    const body = await request.text();
    const response = await respond(request, ++attempt);
    if (response.ok) accepted.push({ body, headers: request.headers });
    return response;
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    port: server.addr.port,
    accepted,
    attempts: () => attempt,
    close: () => server.shutdown(),
  };
}

function envelope(text: string, sessionId = "session-a"): Envelope {
  return {
    message: { jsonrpc: "2.0", method: "notifications/message", params: { text } },
    sessionId,
  };
}

function outbox(options: WebhookOutboxOptions = {}): WebhookOutbox {
  return new WebhookOutbox({ logger: silentLogger, initialDelayMs: 10, ...options });
}

Deno.test("WebhookOutbox POSTs the message with its routing headers and a verifiable signature", async () => {
  const hook = receiver();
  try {
    const key = new WebhookSigningKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    await outbox({ signingKey: key }).send(hook.url, {
      message: { jsonrpc: "2.0", id: 7, method: "sampling/createMessage", params: {} },
      sessionId: "s1",
    });
    const [delivery] = hook.accepted;
    assert.equal(delivery.headers.get("content-type"), "application/json");
    assert.equal(delivery.headers.get("x-session-id"), "s1");
    assert.equal(delivery.headers.get("x-request-id"), "7");
    assert.equal(delivery.headers.get("x-method"), "sampling/createMessage");
    await new WebhookVerifier(key).verify(delivery.headers, delivery.body);
  } finally {
    await hook.close();
  }
});

Deno.test("WebhookOutbox retries 503 answers and keeps a session's deliveries in order", async () => {
  const hook = receiver((_, attempt) => new Response(null, { status: attempt <= 2 ? 503 : 200 }));
  try {
    const sender = outbox();
    await Promise.all([
      sender.send(hook.url, envelope("first")),
      sender.send(hook.url, envelope("second")),
    ]);
    assert.deepEqual(hook.accepted.map((d) => JSON.parse(d.body).params.text), ["first", "second"]);
    assert.equal(hook.attempts(), 4);
  } finally {
    await hook.close();
  }
});

Deno.test("WebhookOutbox waits as long as Retry-After says after a 429", async () => {
  const hook = receiver((_, attempt) =>
    attempt === 1
      ? new Response(null, { status: 429, headers: { "Retry-After": "1" } })
      : new Response(null, { status: 200 })
  );
  try {
    const started = performance.now();
    await outbox().send(hook.url, envelope("later"));
    assert.ok(performance.now() - started >= 950, "retried before Retry-After had passed");
    assert.equal(hook.accepted.length, 1);
  } finally {
    await hook.close();
  }
});

Deno.test("WebhookOutbox does not retry a 400 and reports the failure", async () => {
  const hook = receiver(() => new Response("bad", { status: 400 }));
  const failures: WebhookDeliveryFailure[] = [];
  try {
    await assert.rejects(
      outbox({ onDeliveryFailure: (failure) => void failures.push(failure) }).send(
        hook.url,
        envelope("x"),
      ),
      (error: unknown) => {
        assert.ok(error instanceof WebhookDeliveryError);
        assert.match(error.message, /answered 400 after 1 attempt$/);
        return true;
      },
    );
    assert.equal(hook.attempts(), 1);
    assert.deepEqual(failures.map((f) => [f.status, f.attempts]), [[400, 1]]);
  } finally {
    await hook.close();
  }
});

Deno.test("WebhookOutbox delivers once a receiver that was down comes back, losing nothing", async () => {
  const first = receiver();
  const { port, url } = first;
  await first.close();
  const failed = Promise.withResolvers<void>();
  const sender = outbox({
    initialDelayMs: 100,
    fetch: (request) =>
      fetch(request).catch((error) => {
        failed.resolve();
        throw error;
      }),
  });
  const sending = [sender.send(url, envelope("one")), sender.send(url, envelope("two"))];
  await failed.promise;
  const back = receiver(undefined, port);
  try {
    await Promise.all(sending);
    assert.deepEqual(back.accepted.map((d) => JSON.parse(d.body).params.text), ["one", "two"]);
  } finally {
    await back.close();
  }
});

Deno.test("WebhookOutbox hands a delivery to onDeliveryFailure when the receiver never recovers", async () => {
  const gone = receiver();
  await gone.close();
  const failures: WebhookDeliveryFailure[] = [];
  await assert.rejects(
    outbox({ maxAttempts: 3, onDeliveryFailure: (failure) => void failures.push(failure) })
      .send(gone.url, envelope("lost?")),
    WebhookDeliveryError,
  );
  assert.equal(failures.length, 1);
  assert.equal(failures[0].attempts, 3);
  assert.equal(failures[0].status, undefined);
  assert.ok(failures[0].error, "the network error is kept");
});

Deno.test("WebhookOutbox does not hold one session's delivery behind another session's slow one", async () => {
  const hook = receiver(async (request) => {
    if (request.headers.get("x-session-id") === "slow") {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    return new Response(null, { status: 200 });
  });
  try {
    const sender = outbox();
    const slow = sender.send(hook.url, envelope("slow", "slow"));
    const started = performance.now();
    await sender.send(hook.url, envelope("quick", "quick"));
    assert.ok(performance.now() - started < 500, "the quick session waited for the slow one");
    await slow;
  } finally {
    await hook.close();
  }
});

Deno.test("WebhookOutbox refuses an unusable signing secret when it is created, not at the first delivery", () => {
  assert.throws(() => new WebhookOutbox({ signingKey: "whsec_%%%" }), /not base64/);
});

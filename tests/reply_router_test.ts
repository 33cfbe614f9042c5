import assert from "node:assert/strict";
import type { Incoming } from "../session/envelope.ts";
import type { DeliveryHandler, Inbox, InboxDelivery } from "../session/inbox.ts";
import { type ReplyRoute, ReplyRouter } from "../session/reply_router.ts";
import { silentLogger } from "../session/logger.ts";

/** An inbox fed by the test: the router is the unit under test, the inbox only its source. */
class FedInbox implements Inbox {
  readonly acksOnReceipt = false;
  handler?: DeliveryHandler;
  closed = false;
  start(handler: DeliveryHandler): Promise<void> {
    this.handler = handler;
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

interface Settled {
  how?: string;
  delay?: number;
}

function delivery(incoming: Incoming, extra: Partial<InboxDelivery> = {}): InboxDelivery & Settled {
  const settled: Settled = {};
  return Object.assign(settled, {
    incoming,
    messageId: crypto.randomUUID(),
    receiveCount: 1,
    ack: () => void (settled.how ??= "ack"),
    release: (delay?: number) => {
      settled.how ??= "release";
      settled.delay = delay;
    },
    reject: () => void (settled.how ??= "reject"),
    ...extra,
  });
}

function route(clientId: string, received: InboxDelivery[], sessionId?: string): ReplyRoute {
  return {
    clientId,
    sessionId,
    pendingInitializeId: undefined,
    deliver: (d) => {
      received.push(d);
      d.ack();
    },
    fail: () => {},
  };
}

const ping = (clientId?: string, sessionId?: string): Incoming => ({
  ok: true,
  envelope: { message: { jsonrpc: "2.0", id: 1, result: {} }, clientId, sessionId },
});

Deno.test("ReplyRouter hands a message to the client its ClientId names", async () => {
  const inbox = new FedInbox();
  const router = new ReplyRouter(inbox, { logger: silentLogger });
  const a: InboxDelivery[] = [];
  const b: InboxDelivery[] = [];
  await router.attach(route("a", a));
  await router.attach(route("b", b));
  inbox.handler!([delivery(ping("b"))]);
  assert.equal(a.length, 0);
  assert.equal(b.length, 1);
});

Deno.test("ReplyRouter falls back to the session id when the server echoes no ClientId", async () => {
  const inbox = new FedInbox();
  const router = new ReplyRouter(inbox, { logger: silentLogger });
  const a: InboxDelivery[] = [];
  await router.attach(route("a", a, "session-a"));
  inbox.handler!([delivery(ping(undefined, "session-a"))]);
  assert.equal(a.length, 1);
});

Deno.test("ReplyRouter releases an unclaimed message with a growing delay", async () => {
  const inbox = new FedInbox();
  const router = new ReplyRouter(inbox, { logger: silentLogger });
  await router.attach(route("a", []));
  const first = delivery(ping("someone-else"), { receiveCount: 1, sentAt: Date.now() });
  const fourth = delivery(ping("someone-else"), { receiveCount: 4, sentAt: Date.now() });
  inbox.handler!([first, fourth]);
  assert.deepEqual([first.how, first.delay], ["release", 0]);
  assert.deepEqual([fourth.how, fourth.delay], ["release", 7]);
});

Deno.test("ReplyRouter dead-letters an unclaimed message older than maxUnclaimedAgeMs", async () => {
  const inbox = new FedInbox();
  const router = new ReplyRouter(inbox, { logger: silentLogger, maxUnclaimedAgeMs: 1000 });
  await router.attach(route("a", []));
  const stale = delivery(ping("gone"), { receiveCount: 3, sentAt: Date.now() - 5000 });
  inbox.handler!([stale]);
  assert.equal(stale.how, "reject");
});

Deno.test("ReplyRouter refuses a second client with the same client id", async () => {
  const router = new ReplyRouter(new FedInbox(), { logger: silentLogger });
  await router.attach(route("a", []));
  await assert.rejects(router.attach(route("a", [])), /already in use/);
});

Deno.test("ReplyRouter closes its inbox when the last client detaches and is spent after", async () => {
  const inbox = new FedInbox();
  let closedHook = 0;
  const router = new ReplyRouter(inbox, { logger: silentLogger, onClose: () => closedHook++ });
  const only = route("a", []);
  await router.attach(only);
  await router.detach(only);
  assert.equal(inbox.closed, true);
  assert.equal(closedHook, 1);
  await assert.rejects(router.attach(route("b", [])), /reply channel is closed/);
});

Deno.test("ReplyRouter tells every client when the channel fails", async () => {
  const router = new ReplyRouter(new FedInbox(), { logger: silentLogger });
  const failures: string[] = [];
  for (const clientId of ["a", "b"]) {
    await router.attach({
      ...route(clientId, []),
      fail: (error) => void failures.push(`${clientId}: ${error.message}`),
    });
  }
  router.fail(new Error("queue deleted"));
  assert.deepEqual(failures, ["a: queue deleted", "b: queue deleted"]);
});

import assert from "node:assert/strict";
import { JSONRPCMessageSchema } from "../sdk.ts";
import { checkJsonRpc, type Envelope } from "../session/envelope.ts";
import { BrokerError } from "../session/errors.ts";
import type { DeliveryHandler, Inbox } from "../session/inbox.ts";
import type { Outbox } from "../session/outbox.ts";
import { SessionHost } from "../session/session_host.ts";
import {
  MemorySessionStore,
  type SessionRecord,
  type SessionStore,
} from "../session/session_store.ts";
import { decodeAttributes, encodeAttributes } from "../session/envelope_codec.ts";
import {
  connectSqsClient,
  createTestServer,
  eventually,
  newProbe,
  recordingLogger,
  startSqsServer,
  textOf,
  withBroker,
} from "./_fixture.ts";
import {
  messagesOn,
  pythonAttributes,
  rawSession,
  receiveOne,
  sendRaw,
  stringAttributes,
} from "./_raw_sqs.ts";

/** Messages the MCP SDK drops without an answer, with the id an error can still carry. */
const DROPPED_BY_THE_SDK: Array<[string, string, string | number | null]> = [
  ["a fractional id", '{"jsonrpc":"2.0","id":1.5,"method":"ping"}', null],
  ["an id too large for JSON numbers", '{"jsonrpc":"2.0","id":1e400,"method":"ping"}', null],
  ["an unsafe integer id", '{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}', null],
  ["params as an array", '{"jsonrpc":"2.0","id":7,"method":"ping","params":[1]}', 7],
  ["an extra top-level member", '{"jsonrpc":"2.0","id":"x","method":"ping","extra":1}', "x"],
  ["both method and result", '{"jsonrpc":"2.0","id":8,"method":"ping","result":{}}', 8],
  [
    "a fractional progress token",
    '{"jsonrpc":"2.0","id":9,"method":"ping","params":{"_meta":{"progressToken":0.5}}}',
    9,
  ],
];

for (const [what, body, id] of DROPPED_BY_THE_SDK) {
  Deno.test(`checkJsonRpc() refuses what the SDK would drop: ${what}`, () => {
    const value = JSON.parse(body);
    assert.equal(JSONRPCMessageSchema.safeParse(value).success, false, "the SDK takes it");
    const checked = checkJsonRpc(value);
    assert.equal(checked.ok, false);
    if (!checked.ok) {
      assert.equal(checked.error.code, -32600);
      assert.equal(checked.id, id);
    }
  });
}

Deno.test("SQS: a request the SDK would drop is answered with -32600 and its id, and nothing stays in flight", async () => {
  await withBroker(async ({ sqs, queue, cleanup }) => {
    const requests = await queue("requests");
    const replies = await queue("replies");
    const { server } = await startSqsServer({ sqs, cleanup }, requests.url);
    const { sessionId, clientId } = await rawSession(sqs, requests.url, replies.url);
    for (const [what, body, id] of DROPPED_BY_THE_SDK) {
      await sendRaw(
        sqs,
        requests.url,
        body,
        pythonAttributes({ SessionId: sessionId, ClientId: clientId }),
      );
      const answer = await receiveOne(sqs, replies.url);
      const error = answer.json.error as { code: number; message: string };
      assert.equal(error.code, -32600, what);
      assert.equal(answer.json.id, id, what);
    }
    await eventually(async () => (await messagesOn(sqs, requests.url)) === 0);
    assert.equal(server.status.inFlightRequests, 0);
    await server.close();
  });
});

Deno.test("SQS: a request the MCP server never answers is answered with -32603 after requestTimeoutMs and cancelled", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("requests");
    const replies = await context.queue("replies");
    const probe = newProbe();
    const { server } = await startSqsServer(context, requests.url, {
      createServer: () => createTestServer({ probe }),
      requestTimeoutMs: 300,
    });
    const { client } = await connectSqsClient(context, requests.url, replies.url);
    await assert.rejects(
      client.callTool({ name: "wait_for_cancel", arguments: { id: "stuck" } }),
      (error: { code?: number; message: string }) => {
        assert.equal(error.code, -32603);
        assert.match(error.message, /did not answer within 300 ms/);
        return true;
      },
    );
    await eventually(() => probe.aborted.includes("stuck"));
    assert.equal(server.status.inFlightRequests, 0);
    await eventually(async () => (await messagesOn(context.sqs, requests.url)) === 0);
  });
});

Deno.test("encodeAttributes() escapes the characters SQS refuses, and the JSON still means the same", () => {
  const text = "a\uFFFEb\uFFFFc 🙂 d\u0001";
  const { body } = encodeAttributes({
    message: { jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text }] } },
  });
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(body, /[\uFFFE\uFFFF\uD800-\uDFFF\u0000-\u0008]/);
  const decoded = decodeAttributes(body, {});
  assert.ok(decoded.ok);
  if (decoded.ok) {
    const { result } = decoded.envelope.message as unknown as {
      result: { content: [{ text: string }] };
    };
    assert.equal(result.content[0].text, text);
  }
});

Deno.test("SQS: a tool result with characters SQS refuses reaches the caller intact", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("requests");
    const replies = await context.queue("replies");
    await startSqsServer(context, requests.url);
    const { client } = await connectSqsClient(context, requests.url, replies.url);
    const text = "not\uFFFEallowed\uFFFF and 🙂 astral";
    assert.equal(textOf(await client.callTool({ name: "echo", arguments: { text } })), text);
  });
});

/** What a {@linkcode ScriptedInbox} delivery was settled with. */
type Settled = { how: "ack" | "release" | "reject"; delaySeconds?: number };

/** An inbox that hands the host exactly the deliveries a test scripts, and records their fate. */
class ScriptedInbox implements Inbox {
  readonly acksOnReceipt = false;
  #handler?: DeliveryHandler;
  start(handler: DeliveryHandler): Promise<void> {
    this.#handler = handler;
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  /** Delivers `body` with `attributes`, received `receiveCount` times; resolves once settled. */
  deliver(
    body: string,
    attributes: Record<string, string>,
    receiveCount = 1,
  ): Promise<Settled> {
    const { promise, resolve } = Promise.withResolvers<Settled>();
    this.#handler!([{
      incoming: decodeAttributes(body, stringAttributes(attributes)),
      messageId: crypto.randomUUID(),
      receiveCount,
      ack: () => resolve({ how: "ack" }),
      release: (delaySeconds) => resolve({ how: "release", delaySeconds }),
      reject: () => resolve({ how: "reject" }),
    }]);
    return promise;
  }
}

/** An outbox that keeps what it is asked to send, refusing what `refuse` names. */
class KeepingOutbox implements Outbox {
  readonly sent: Envelope[] = [];
  refuse?: (envelope: Envelope) => Error | undefined;
  send(_address: string, envelope: Envelope): Promise<void> {
    const refusal = this.refuse?.(envelope);
    if (refusal) return Promise.reject(refusal);
    this.sent.push(envelope);
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A store that counts its reads and fails every call while `failing` is set. */
class TroubledStore extends MemorySessionStore {
  reads = 0;
  failing = false;
  override get(id: string): Promise<SessionRecord | undefined> {
    this.reads++;
    return this.failing ? Promise.reject(new Error("store unreachable")) : super.get(id);
  }
}

function scriptedHost(store: SessionStore = new MemorySessionStore()) {
  const inbox = new ScriptedInbox();
  const outbox = new KeepingOutbox();
  const logger = recordingLogger();
  const host = new SessionHost({
    inbox,
    outbox,
    returnAddressKey: { meta: "replyTo" },
    addressPolicy: () => true,
    createServer: () => createTestServer(),
    store,
    logger,
  });
  return { inbox, outbox, host, events: logger.events };
}

/** Opens a session through the scripted inbox; returns its id. */
async function openScriptedSession(inbox: ScriptedInbox, outbox: KeepingOutbox): Promise<string> {
  const initialize = JSON.stringify({
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "scripted", version: "1" },
      _meta: { replyTo: "replies" },
    },
  });
  await inbox.deliver(initialize, { ClientId: "c" });
  await eventually(() => outbox.sent.length === 1);
  return outbox.sent[0].sessionId!;
}

const PING = '{"jsonrpc":"2.0","id":1,"method":"ping"}';

Deno.test("SessionHost refuses a session id it could never have made without asking the store", async () => {
  const store = new TroubledStore();
  const { inbox, host, events } = scriptedHost(store);
  await host.start();
  const settled = await inbox.deliver(PING, { SessionId: "s".repeat(3000), ClientId: "c" });
  assert.equal(settled.how, "reject");
  assert.equal(store.reads, 0);
  assert.match(String(events.find((e) => e.event === "message.refused")?.fields.reason), /unknown/);
  await host.close();
});

Deno.test("SessionHost hands a message back later each time its handling fails, and logs it once", async () => {
  const store = new TroubledStore();
  store.failing = true;
  const { inbox, host, events } = scriptedHost(store);
  await host.start();
  const attributes = { SessionId: "a".repeat(32), ClientId: "c" };
  const delays = [];
  for (const receiveCount of [1, 2, 3, 4]) {
    const settled = await inbox.deliver(PING, attributes, receiveCount);
    assert.equal(settled.how, "release");
    delays.push(settled.delaySeconds);
  }
  assert.deepEqual(delays, [1, 2, 4, 8]);
  const loud = events.filter((e) => e.event === "message.failed" && e.level === "error");
  assert.equal(loud.length, 1);
  await host.close();
});

Deno.test("SessionHost leaves a message whose handling keeps failing to the redrive policy after 10 receives", async () => {
  const store = new TroubledStore();
  store.failing = true;
  const { inbox, host, events } = scriptedHost(store);
  await host.start();
  const settled = await inbox.deliver(PING, { SessionId: "a".repeat(32), ClientId: "c" }, 10);
  assert.equal(settled.how, "reject");
  assert.equal(events.filter((e) => e.event === "message.abandoned").length, 1);
  await host.close();
});

Deno.test("SessionHost answers with an error when the return address refuses a result for good", async () => {
  const { inbox, outbox, host } = scriptedHost();
  await host.start();
  const sessionId = await openScriptedSession(inbox, outbox);
  outbox.refuse = (envelope) =>
    JSON.stringify(envelope.message).includes("poison")
      ? new BrokerError("SQS SendMessage failed: invalid contents", {
        operation: "SQS SendMessage",
        address: "replies",
        code: "InvalidMessageContents",
        retryable: false,
      })
      : undefined;
  const call = JSON.stringify({
    jsonrpc: "2.0",
    id: 5,
    method: "tools/call",
    params: { name: "echo", arguments: { text: "poison" } },
  });
  assert.equal((await inbox.deliver(call, { SessionId: sessionId, ClientId: "c" })).how, "ack");
  const answer = outbox.sent.at(-1)!.message as {
    id: number;
    error?: { code: number; message: string };
  };
  assert.equal(answer.id, 5);
  assert.equal(answer.error?.code, -32603);
  assert.match(answer.error?.message ?? "", /could not be delivered: .*invalid contents/);
  assert.equal(host.status.sessions, 1);
  await host.close();
});

Deno.test("SessionHost ends a session whose return address takes nothing at all", async () => {
  const { inbox, outbox, host, events } = scriptedHost();
  await host.start();
  const sessionId = await openScriptedSession(inbox, outbox);
  outbox.refuse = () =>
    new BrokerError("SQS SendMessage failed: the queue does not exist", {
      operation: "SQS SendMessage",
      address: "replies",
      code: "AWS.SimpleQueueService.NonExistentQueue",
      retryable: false,
    });
  const settled = await inbox.deliver(PING, { SessionId: sessionId, ClientId: "c" });
  assert.equal(settled.how, "ack", "running it again would only repeat its effects");
  await eventually(() => host.status.sessions === 0);
  assert.ok(events.some((e) => e.event === "session.address_gone"));
  await host.close();
});

Deno.test("SQS: an SNS envelope whose Message is not text is answered with a parse error in its session", async () => {
  await withBroker(async ({ sqs, queue, cleanup }) => {
    const requests = await queue("requests");
    const replies = await queue("replies");
    const { server } = await startSqsServer({ sqs, cleanup }, requests.url);
    const { sessionId, clientId } = await rawSession(sqs, requests.url, replies.url);
    const envelope = {
      Type: "Notification",
      Message: { jsonrpc: "2.0", id: 3, method: "ping" },
      MessageAttributes: {
        SessionId: { Type: "String", Value: sessionId },
        ClientId: { Type: "String", Value: clientId },
      },
    };
    await sendRaw(sqs, requests.url, JSON.stringify(envelope), {});
    const answer = await receiveOne(sqs, replies.url);
    assert.equal((answer.json.error as { code: number }).code, -32700);
    assert.match((answer.json.error as { message: string }).message, /Message is not a string/);
    await server.close();
  });
});

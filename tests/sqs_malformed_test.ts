import assert from "node:assert/strict";
import { DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { McpError } from "../sdk.ts";
import { BrokerError, MessageTooLargeError } from "../session/errors.ts";
import { SqsClientTransport } from "../transports/sqs/mod.ts";
import {
  connectSqsClient,
  createTestClient,
  createTestServer,
  eventually,
  type LoggedEvent,
  newProbe,
  startSqsServer,
  withBroker,
} from "./_fixture.ts";
import {
  messagesOn,
  pythonAttributes,
  pythonInitializeBody,
  type RawMessage,
  rawSession,
  receiveNone,
  receiveOne,
  sendRaw,
} from "./_raw_sqs.ts";

/** Sends `body` in a fresh session, as the Python client would, and returns the server's answer. */
async function answerInSession(
  body: string,
  attributes: Record<string, string> = {},
): Promise<RawMessage> {
  let answer: RawMessage | undefined;
  await withBroker(async ({ sqs, queue, cleanup }) => {
    const requests = await queue("requests");
    const replies = await queue("replies");
    const { server } = await startSqsServer({ sqs, cleanup }, requests.url);
    const { sessionId, clientId } = await rawSession(sqs, requests.url, replies.url);
    await sendRaw(
      sqs,
      requests.url,
      body,
      pythonAttributes({ SessionId: sessionId, ClientId: clientId, ...attributes }),
    );
    answer = await receiveOne(sqs, replies.url);
    assert.equal(answer.attributes.SessionId.StringValue, sessionId);
    await server.close();
  });
  return answer!;
}

/** Sends `body` with no usable return address; asserts the refusal is logged and the message gone. */
async function refusedAndDeleted(
  body: string,
  attributes: Record<string, string>,
  reason: RegExp,
): Promise<void> {
  await withBroker(async ({ sqs, queue, cleanup }) => {
    const requests = await queue("requests");
    const { server, events } = await startSqsServer({ sqs, cleanup }, requests.url);
    await sendRaw(sqs, requests.url, body, pythonAttributes(attributes));
    await eventually(() => refusal(events, reason) !== undefined);
    await eventually(async () => (await messagesOn(sqs, requests.url)) === 0);
    await server.close();
  });
}

function refusal(events: LoggedEvent[], reason: RegExp): LoggedEvent | undefined {
  return events.find((event) =>
    event.event === "message.refused" && reason.test(String(event.fields.reason))
  );
}

Deno.test("SQS malformed: a body that is not JSON in a known session is answered with a parse error", async () => {
  const answer = await answerInSession("{not json");
  assert.equal(answer.json.id, null);
  assert.equal((answer.json.error as { code: number }).code, -32700);
});

Deno.test("SQS malformed: a JSON-RPC batch array in a known session is answered with an invalid request error", async () => {
  const answer = await answerInSession('[{"jsonrpc":"2.0","id":1,"method":"ping"}]');
  const error = answer.json.error as { code: number; message: string };
  assert.equal(error.code, -32600);
  assert.match(error.message, /batches are not supported/);
});

Deno.test("SQS malformed: a request that is not JSON-RPC 2.0 is answered with its id and an invalid request error", async () => {
  const answer = await answerInSession('{"jsonrpc":"1.0","id":42,"method":"ping"}');
  assert.equal(answer.json.id, 42);
  assert.equal((answer.json.error as { code: number }).code, -32600);
});

Deno.test("SQS malformed: an unknown method is answered with method not found", async () => {
  const answer = await answerInSession('{"jsonrpc":"2.0","id":5,"method":"no/such/method"}');
  assert.equal(answer.json.id, 5);
  assert.equal((answer.json.error as { code: number }).code, -32601);
});

Deno.test("SQS malformed: a request with an unsupported protocol version is answered with an invalid request error", async () => {
  const answer = await answerInSession('{"jsonrpc":"2.0","id":3,"method":"ping"}', {
    ProtocolVersion: "1999-01-01",
  });
  assert.equal(answer.json.id, 3);
  const error = answer.json.error as { code: number; message: string };
  assert.equal(error.code, -32600);
  assert.match(error.message, /Unsupported protocol version 1999-01-01/);
});

Deno.test("SQS malformed: a body that is not JSON and names no session is logged and deleted", async () => {
  await refusedAndDeleted("garbage", { ClientId: "c" }, /Parse error/);
});

Deno.test("SQS malformed: a message for an unknown session is logged and deleted when the queue has no redrive policy", async () => {
  await refusedAndDeleted(
    '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    { SessionId: "0123456789abcdef0123456789abcdef", ClientId: "c" },
    /unknown or expired session/,
  );
});

Deno.test("SQS malformed: a message for an unknown session goes to the dead-letter queue when the queue has a redrive policy", async () => {
  await withBroker(async ({ sqs, queue, cleanup }) => {
    const deadLetters = await queue("dead-letters");
    const requests = await queue("requests", {
      VisibilityTimeout: "1",
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetters.arn, maxReceiveCount: 1 }),
    });
    const { server } = await startSqsServer({ sqs, cleanup }, requests.url);
    await sendRaw(
      sqs,
      requests.url,
      '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      pythonAttributes({ SessionId: "0123456789abcdef0123456789abcdef", ClientId: "c" }),
    );
    const dead = await receiveOne(sqs, deadLetters.url, 10);
    assert.equal(dead.json.method, "ping");
    await server.close();
  });
});

Deno.test("SQS malformed: a message that names a session with another client's id is refused and not answered", async () => {
  await withBroker(async ({ sqs, queue, cleanup }) => {
    const requests = await queue("requests");
    const replies = await queue("replies");
    const { server, events } = await startSqsServer({ sqs, cleanup }, requests.url);
    const { sessionId } = await rawSession(sqs, requests.url, replies.url, "owner");
    await sendRaw(
      sqs,
      requests.url,
      '{"jsonrpc":"2.0","id":9,"method":"ping"}',
      pythonAttributes({ SessionId: sessionId, ClientId: "intruder" }),
    );
    await eventually(() => refusal(events, /client id does not match/) !== undefined);
    assert.ok(await receiveNone(sqs, replies.url), "the session's owner was sent something");
    await server.close();
  });
});

Deno.test("SQS malformed: a message that names a session but no client id is refused and not answered", async () => {
  await withBroker(async ({ sqs, queue, cleanup }) => {
    const requests = await queue("requests");
    const replies = await queue("replies");
    const { server, events } = await startSqsServer({ sqs, cleanup }, requests.url);
    const { sessionId } = await rawSession(sqs, requests.url, replies.url, "owner");
    await sendRaw(
      sqs,
      requests.url,
      '{"jsonrpc":"2.0","id":9,"method":"ping"}',
      pythonAttributes({ SessionId: sessionId }),
    );
    await eventually(() =>
      refusal(events, /has no client id but its session is bound/) !== undefined
    );
    assert.ok(await receiveNone(sqs, replies.url), "the session's owner was sent something");
    await eventually(async () => (await messagesOn(sqs, requests.url)) === 0);
    await server.close();
  });
});

Deno.test("SQS malformed: an initialize without a return address is logged and deleted", async () => {
  await refusedAndDeleted(
    pythonInitializeBody({}),
    { RequestId: "0", Method: "initialize", ClientId: "c" },
    /no return address/,
  );
});

Deno.test("SQS malformed: an initialize naming a response queue in another account is refused and nothing is sent", async () => {
  await withBroker(async ({ sqs, queue, cleanup }) => {
    const requests = await queue("requests");
    const { server, events } = await startSqsServer({ sqs, cleanup }, requests.url);
    const elsewhere = requests.url.replace(/\/\d{12}\//, "/999999999999/");
    await sendRaw(
      sqs,
      requests.url,
      pythonInitializeBody({ _meta: { responseQueueUrl: elsewhere } }),
      pythonAttributes({ RequestId: "0", Method: "initialize", ClientId: "c" }),
    );
    await eventually(() => refusal(events, /refused by the address policy/) !== undefined);
    assert.equal(refusal(events, /refused/)?.fields.returnAddress, elsewhere);
    assert.equal(server.status.sessions, 0);
    await server.close();
  });
});

Deno.test("SQS security: an initialize naming a look-alike host for its response queue is refused and nothing is sent", async () => {
  await withBroker(async ({ sqs, queue, cleanup }) => {
    const requests = await queue("requests");
    const { server, events } = await startSqsServer({ sqs, cleanup }, requests.url);
    // Same account and region in the host name, but not the broker's host: the AWS SDK would
    // send signed SendMessage requests to whoever answers there.
    const lookalike = requests.url.replace(
      /^https?:\/\/[^/]+/,
      "https://sqs.us-east-1.amazonaws.com.attacker.example",
    );
    await sendRaw(
      sqs,
      requests.url,
      pythonInitializeBody({ _meta: { responseQueueUrl: lookalike } }),
      pythonAttributes({ RequestId: "0", Method: "initialize", ClientId: "c" }),
    );
    await eventually(() => refusal(events, /refused by the address policy/) !== undefined);
    assert.match(String(refusal(events, /refused/)?.fields.why), /host is neither/);
    assert.equal(server.status.sessions, 0);
    await server.close();
  });
});

Deno.test("SQS malformed: a redelivered request is run once and answered once", async () => {
  await withBroker(async ({ sqs, queue, cleanup }) => {
    const requests = await queue("requests");
    const replies = await queue("replies");
    const probe = newProbe();
    const { server } = await startSqsServer({ sqs, cleanup }, requests.url, {
      createServer: () => createTestServer({ probe }),
    });
    const { sessionId, clientId } = await rawSession(sqs, requests.url, replies.url);
    const call = '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"count_runs"}}';
    const attributes = pythonAttributes({
      RequestId: "11",
      SessionId: sessionId,
      ClientId: clientId,
    });
    await sendRaw(sqs, requests.url, call, attributes);
    const first = await receiveOne(sqs, replies.url);
    await sendRaw(sqs, requests.url, call, attributes);
    assert.deepEqual(first.json.result, { content: [{ type: "text", text: "1" }] });
    assert.ok(await receiveNone(sqs, replies.url, 1), "the duplicate was answered");
    assert.equal(probe.runs, 1);
    await server.close();
  });
});

Deno.test("SQS oversized: a tool result over the server's size limit reaches the caller as a JSON-RPC error", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("requests");
    const replies = await context.queue("replies");
    const { server } = await startSqsServer(context, requests.url, { maxMessageBytes: 10_000 });
    const { client } = await connectSqsClient(context, requests.url, replies.url);
    await assert.rejects(
      client.callTool({ name: "big", arguments: { bytes: 20_000 } }),
      (error: unknown) => {
        assert.ok(error instanceof McpError);
        assert.equal(error.code, -32603);
        assert.match(
          error.message,
          /Result too large to send: \d+ bytes, the limit is 10000 bytes/,
        );
        return true;
      },
    );
    await client.close();
    await server.close();
  });
});

Deno.test("SQS oversized: a request over the client's size limit fails with MessageTooLargeError and is not sent", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("requests");
    const replies = await context.queue("replies");
    const { server } = await startSqsServer(context, requests.url);
    const { client } = await connectSqsClient(context, requests.url, replies.url, {
      maxMessageBytes: 2_000,
    });
    await assert.rejects(
      client.callTool({ name: "echo", arguments: { text: "y".repeat(5_000) } }),
      MessageTooLargeError,
    );
    await client.close();
    await server.close();
  });
});

Deno.test("SQS broken peer: a request to a queue that does not exist fails the call with a BrokerError", async () => {
  await withBroker(async ({ sqs, queue }) => {
    const replies = await queue("replies");
    const missing = replies.url.replace(/replies-[^/]+$/, "no-such-queue");
    const client = createTestClient();
    await assert.rejects(
      client.connect(
        new SqsClientTransport({
          sqs,
          requestQueueUrl: missing,
          responseQueueUrl: replies.url,
          waitTimeSeconds: 1,
        }),
      ),
      (error: unknown) => {
        assert.ok(error instanceof BrokerError);
        assert.equal(error.operation, "SQS SendMessage");
        assert.equal(error.address, missing);
        return true;
      },
    );
    await client.close();
  });
});

Deno.test("SQS broken peer: the server's poll loop survives its queue disappearing and resumes when it returns", async () => {
  await withBroker(async ({ sqs, queue, broker, cleanup }) => {
    const requests = await queue("requests");
    const replies = await queue("replies");
    const errors: Error[] = [];
    const { server } = await startSqsServer({ sqs, cleanup }, requests.url, {
      onerror: (error) => void errors.push(error),
    });
    await sqs.send(new DeleteQueueCommand({ QueueUrl: requests.url }));
    await eventually(() => errors.length > 0);
    assert.ok(errors[0] instanceof BrokerError);
    assert.equal((errors[0] as BrokerError).operation, "SQS ReceiveMessage");
    const name = requests.url.slice(requests.url.lastIndexOf("/") + 1);
    await broker.createQueue(sqs, name);
    const { reply } = await rawSession(sqs, requests.url, replies.url);
    assert.ok(reply.json.result);
    await server.close();
  });
});

import assert from "node:assert/strict";
import { Client, InMemoryTransport, type JSONRPCMessage, McpServer } from "../sdk.ts";
import { SqsClientTransport } from "../transports/sqs/mod.ts";
import { startSqsServer, withBroker } from "./_fixture.ts";
import {
  pythonAttributes,
  pythonInitializeBody,
  type RawMessage,
  rawSession,
  receiveOne,
  sendRaw,
  stringAttributes,
} from "./_raw_sqs.ts";

/** Sends a Python client's initialize with `params` and `attributes` and returns the answer. */
async function answerToInitialize(
  params: (replies: string) => Record<string, unknown>,
  attributes: Record<string, string> = {},
): Promise<RawMessage> {
  let answer: RawMessage | undefined;
  await withBroker(async ({ sqs, queue, cleanup }) => {
    const requests = await queue("requests");
    const replies = await queue("replies");
    const { server } = await startSqsServer({ sqs, cleanup }, requests.url);
    await sendRaw(
      sqs,
      requests.url,
      pythonInitializeBody(params(replies.url)),
      pythonAttributes({ RequestId: "0", Method: "initialize", ClientId: "python", ...attributes }),
    );
    answer = await receiveOne(sqs, replies.url);
    await server.close();
  });
  return answer!;
}

Deno.test("SQS wire: a Python client's initialize gets a result with a 32-hex session id and the compat attributes", async () => {
  await withBroker(async ({ sqs, queue, cleanup }) => {
    const requests = await queue("requests");
    const replies = await queue("replies");
    const { server } = await startSqsServer({ sqs, cleanup }, requests.url);
    const { reply, clientId } = await rawSession(sqs, requests.url, replies.url);
    assert.equal(reply.json.jsonrpc, "2.0");
    assert.equal(reply.json.id, 0);
    const result = reply.json.result as Record<string, unknown>;
    assert.equal(typeof result.protocolVersion, "string");
    assert.equal((result.serverInfo as { name: string }).name, "asyncmcp-test");
    assert.match(reply.attributes.SessionId.StringValue!, /^[0-9a-f]{32}$/);
    assert.deepEqual(reply.attributes.MessageType, { DataType: "String", StringValue: "jsonrpc" });
    assert.equal(reply.attributes.Timestamp.DataType, "Number");
    assert.ok(Math.abs(Number(reply.attributes.Timestamp.StringValue) - Date.now() / 1000) < 60);
    assert.equal(reply.attributes.ClientId.StringValue, clientId);
    assert.equal(reply.attributes.ProtocolVersion.StringValue, result.protocolVersion);
    await server.close();
  });
});

Deno.test("SQS wire: a Python client's tools/call in its session is answered with the result", async () => {
  await withBroker(async ({ sqs, queue, cleanup }) => {
    const requests = await queue("requests");
    const replies = await queue("replies");
    const { server } = await startSqsServer({ sqs, cleanup }, requests.url);
    const { sessionId, clientId } = await rawSession(sqs, requests.url, replies.url);
    await sendRaw(
      sqs,
      requests.url,
      '{"method":"tools/call","params":{"name":"echo","arguments":{"text":"from python"}},"jsonrpc":"2.0","id":1}',
      pythonAttributes({
        RequestId: "1",
        Method: "tools/call",
        SessionId: sessionId,
        ClientId: clientId,
      }),
    );
    const reply = await receiveOne(sqs, replies.url);
    assert.deepEqual(reply.json, {
      jsonrpc: "2.0",
      id: 1,
      result: { content: [{ type: "text", text: "from python" }] },
    });
    assert.equal(reply.attributes.SessionId.StringValue, sessionId);
    assert.equal(reply.attributes.RequestId, undefined, "responses carry no RequestId");
    await server.close();
  });
});

Deno.test("SQS wire: a legacy initialize with params.response_queue_url is answered on that queue", async () => {
  const answer = await answerToInitialize((replies) => ({ response_queue_url: replies }));
  assert.equal(answer.json.id, 0);
  assert.ok(answer.json.result);
  assert.match(answer.attributes.SessionId.StringValue!, /^[0-9a-f]{32}$/);
});

Deno.test("SQS wire: a session id the client proposes on initialize is not adopted", async () => {
  const answer = await answerToInitialize(
    (replies) => ({ _meta: { responseQueueUrl: replies } }),
    { SessionId: "attacker-chosen-session-id" },
  );
  assert.notEqual(answer.attributes.SessionId.StringValue, "attacker-chosen-session-id");
  assert.match(answer.attributes.SessionId.StringValue!, /^[0-9a-f]{32}$/);
});

Deno.test("SQS wire: our client sends initialize with _meta.responseQueueUrl, ClientId and the compat attributes", async () => {
  await withBroker(async ({ sqs, queue }) => {
    const requests = await queue("requests");
    const replies = await queue("replies");
    const client = new Client({ name: "wire", version: "1.0.0" });
    const transport = new SqsClientTransport({
      sqs,
      requestQueueUrl: requests.url,
      responseQueueUrl: replies.url,
      clientId: "client-7",
      waitTimeSeconds: 1,
    });
    const connecting = client.connect(transport, { timeout: 3000 }).catch(() => {});
    const sent = await receiveOne(sqs, requests.url);
    const params = sent.json.params as { _meta: Record<string, string> };
    assert.equal(sent.json.method, "initialize");
    assert.equal(params._meta.responseQueueUrl, replies.url);
    assert.deepEqual(sent.attributes.MessageType, { DataType: "String", StringValue: "jsonrpc" });
    assert.equal(sent.attributes.Timestamp.DataType, "Number");
    assert.equal(sent.attributes.ClientId.StringValue, "client-7");
    assert.equal(sent.attributes.Method.StringValue, "initialize");
    assert.equal(sent.attributes.RequestId.StringValue, String(sent.json.id));
    assert.equal(sent.attributes.SessionId, undefined);
    await client.close();
    await connecting;
  });
});

Deno.test("SQS wire: our client works with a server that answers like the Python peer (no ClientId echo)", async () => {
  await withBroker(async ({ sqs, queue }) => {
    const requests = await queue("requests");
    const replies = await queue("replies");
    // A minimal stand-in for the Python server's wire behaviour: replies carry only MessageType,
    // Timestamp and SessionId, the body is the SDK server's own answer.
    const sessionId = crypto.randomUUID().replaceAll("-", "");
    const mcp = new McpServer({ name: "python-like", version: "0.2.1" });
    mcp.registerTool("hello", {}, () => ({ content: [{ type: "text", text: "hi" }] }));
    const [toServer, toWire] = InMemoryTransport.createLinkedPair();
    await mcp.connect(toServer);
    toWire.onmessage = (message) => {
      sendRaw(sqs, replies.url, JSON.stringify(message), {
        MessageType: { DataType: "String", StringValue: "jsonrpc" },
        Timestamp: { DataType: "Number", StringValue: String(Math.floor(Date.now() / 1000)) },
        ...stringAttributes({ SessionId: sessionId }),
      });
    };
    await toWire.start();
    const pump = (async () => {
      for (let i = 0; i < 3; i++) {
        const incoming = await receiveOne(sqs, requests.url);
        await toWire.send(incoming.json as unknown as JSONRPCMessage);
      }
    })();
    const client = new Client({ name: "wire", version: "1.0.0" });
    const transport = new SqsClientTransport({
      sqs,
      requestQueueUrl: requests.url,
      responseQueueUrl: replies.url,
      waitTimeSeconds: 1,
    });
    await client.connect(transport);
    assert.equal(transport.sessionId, sessionId);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name), ["hello"]);
    await pump;
    await client.close();
    await mcp.close();
  });
});

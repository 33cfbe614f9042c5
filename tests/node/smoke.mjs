// The package as Node and Bun users import it, against the broker at AWS_ENDPOINT_URL. Run by
// tests/node_test.ts, which builds the package into node_modules beside a copy of this file and
// runs it with `node --test` and `bun test`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { SNSClient } from "@aws-sdk/client-sns";
import { Client, McpServer } from "@asyncmcp/asyncmcp/sdk";
import { Client as ClientV2, McpServer as McpServerV2 } from "@asyncmcp/asyncmcp/sdk/v2";
import { SqsClientTransport, SqsServer } from "@asyncmcp/asyncmcp/sqs";
import {
  ensureSnsSqsTopology,
  SnsSqsClientTransport,
  SnsSqsServer,
} from "@asyncmcp/asyncmcp/sns-sqs";
import {
  WebhookClientTransport,
  WebhookServer,
  webhookUrlPolicy,
} from "@asyncmcp/asyncmcp/webhook";
import { z } from "zod";

// Not an export: the library's own way to serve a fetch handler (node:http on Node, Bun.serve on
// Bun), bundled beside the package for this suite. Loaded by a computed URL, which `deno check`
// of this repository leaves alone.
const runtime = new URL("./node_modules/@asyncmcp/asyncmcp/session/runtime.js", import.meta.url);
const { serveFetch } = await import(runtime.href);

const endpoint = process.env.AWS_ENDPOINT_URL;
const run = Math.random().toString(36).slice(2, 10);

/** An McpServer with one tool, on the SDK `McpServer` class given. */
function weather(Server) {
  const server = new Server({ name: "weather", version: "1.0.0" });
  server.registerTool(
    "forecast",
    { description: "Tomorrow's weather", inputSchema: z.object({ city: z.string() }) },
    ({ city }) => ({ content: [{ type: "text", text: `Sunny in ${city}` }] }),
  );
  return server;
}

/** Runs `fn` with fresh AWS clients and a cleanup list emptied (last first) when it ends. */
async function withAws(fn) {
  const sqs = new SQSClient({ endpoint });
  const sns = new SNSClient({ endpoint });
  const cleanups = [];
  try {
    await fn({ sqs, sns, cleanup: (step) => cleanups.push(step) });
  } finally {
    for (const step of cleanups.reverse()) await step();
    sqs.destroy();
    sns.destroy();
  }
}

async function queue(sqs, cleanup, name) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${run}` }));
  cleanup(() => sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {}));
  return QueueUrl;
}

test("an SDK v1 Client calls a tool of an McpServer over SQS", async () => {
  await withAws(async ({ sqs, cleanup }) => {
    const requestQueueUrl = await queue(sqs, cleanup, "node-requests");
    const responseQueueUrl = await queue(sqs, cleanup, "node-replies");
    const server = new SqsServer({ sqs, requestQueueUrl, createServer: () => weather(McpServer) });
    await server.start();
    cleanup(() => server.close());
    const client = new Client({ name: "node-client", version: "1.0.0" });
    await client.connect(new SqsClientTransport({ sqs, requestQueueUrl, responseQueueUrl }));
    cleanup(() => client.close());
    const result = await client.callTool({ name: "forecast", arguments: { city: "Oslo" } });
    assert.deepEqual(result.content, [{ type: "text", text: "Sunny in Oslo" }]);
  });
});

test("an SDK v2 Client settles on 2026-07-28 with an SDK v2 McpServer over SNS+SQS", async () => {
  await withAws(async ({ sqs, sns, cleanup }) => {
    const topology = await ensureSnsSqsTopology({
      sqs,
      sns,
      requestTopic: `node-requests-${run}`,
      serverQueue: `node-server-${run}`,
      replyTopic: `node-replies-${run}`,
      clientQueue: `node-client-${run}`,
    });
    cleanup(async () => {
      for (const QueueUrl of [topology.requestQueueUrl, topology.responseQueueUrl]) {
        await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {});
      }
    });
    const server = new SnsSqsServer({
      sqs,
      sns,
      requestQueueUrl: topology.requestQueueUrl,
      requestTopicArn: topology.requestTopicArn,
      createServer: () => weather(McpServerV2),
    });
    await server.start();
    cleanup(() => server.close());
    const client = new ClientV2(
      { name: "node-client", version: "1.0.0" },
      { versionNegotiation: { mode: "auto" } },
    );
    await client.connect(new SnsSqsClientTransport({ sqs, sns, ...topology }));
    cleanup(() => client.close());
    const result = await client.callTool({ name: "forecast", arguments: { city: "Rome" } });
    assert.equal(client.getNegotiatedProtocolVersion(), "2026-07-28");
    assert.deepEqual(result.content, [{ type: "text", text: "Sunny in Rome" }]);
  });
});

test("an SDK Client calls a tool over webhooks, signed, with a receiver of its own", async () => {
  const cleanups = [];
  try {
    const server = new WebhookServer({
      createServer: () => weather(McpServer),
      signingKey: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      addressPolicy: webhookUrlPolicy({ allowHosts: ["127.0.0.1"] }),
    });
    await server.start();
    cleanups.push(() => server.close());
    const served = await serveFetch(server.fetch, { hostname: "127.0.0.1", port: 0 });
    cleanups.push(() => served.close());
    const transport = new WebhookClientTransport({
      serverUrl: `http://127.0.0.1:${served.port}/mcp/request`,
      listen: true,
      signingSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    });
    const client = new Client({ name: "node-client", version: "1.0.0" });
    await client.connect(transport);
    cleanups.push(() => client.close());
    assert.match(transport.webhookUrl, /^http:\/\/127\.0\.0\.1:\d+\/webhook$/);
    const result = await client.callTool({ name: "forecast", arguments: { city: "Lima" } });
    assert.deepEqual(result.content, [{ type: "text", text: "Sunny in Lima" }]);
  } finally {
    for (const step of cleanups.reverse()) await step();
  }
});

/**
 * `deno task demo`: an MCP server and an SDK client talking through a broker, on the embedded
 * broker (or on `AWS_ENDPOINT_URL`), or over webhooks or Streamable HTTP + webhook on loopback.
 * Lists the tools, calls a quick one and a long-running one that reports progress, prints results
 * and round-trip times, and exits 0.
 *
 * Usage: `deno task demo [--transport sqs|sns-sqs|webhook|streamable-http-webhook] [--sdk v2|v1]`
 *
 * With the MCP SDK v2 (the default) client and server settle on the stateless 2026-07-28
 * revision where the transport serves it; `--sdk v1` runs the same over 2025-11-25 sessions.
 *
 * @module
 */

import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { parseArgs } from "node:util";
import { Client } from "../sdk.ts";
import type { Transport } from "../sdk.ts";
import { Client as ClientV2 } from "../sdk_v2.ts";
import {
  DELIVERY_META_KEY,
  StreamableHttpWebhookClientTransport,
  StreamableHttpWebhookServer,
} from "../transports/streamable_http_webhook/mod.ts";
import {
  ensureSnsSqsTopology,
  SnsSqsClientTransport,
  SnsSqsServer,
} from "../transports/sns_sqs/mod.ts";
import { SqsClientTransport, SqsServer } from "../transports/sqs/mod.ts";
import {
  WebhookClientTransport,
  WebhookServer,
  webhookUrlPolicy,
} from "../transports/webhook/mod.ts";
import { type Broker, startBroker } from "./embedded_broker.ts";
import { createExampleServer, createExampleServerV2 } from "./example_server.ts";

const TRANSPORTS = ["sqs", "sns-sqs", "webhook", "streamable-http-webhook"] as const;
type TransportName = typeof TRANSPORTS[number];
const SDKS = ["v2", "v1"] as const;

interface Wiring {
  server: { start?(): Promise<void>; close(): Promise<void> };
  transport: Transport;
  /** Runs after the calls, before everything closes. */
  epilogue?: () => Promise<void>;
  /** Runs after the server has closed. */
  shutdown?: () => Promise<void>;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    transport: { type: "string", default: "sqs" },
    sdk: { type: "string", default: "v2" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(`Usage: deno task demo [--transport ${TRANSPORTS.join("|")}] [--sdk v2|v1]`);
  Deno.exit(0);
}
if (!SDKS.includes(values.sdk as typeof SDKS[number])) {
  console.error(
    `Cannot run demo as SDK '${values.sdk}' is unknown: use v2 (the default) or v1`,
  );
  Deno.exit(2);
}
const v2 = values.sdk === "v2";
if (!TRANSPORTS.includes(values.transport as TransportName)) {
  console.error(
    `Cannot run demo as transport '${values.transport}' is unknown: use one of ${
      TRANSPORTS.join(", ")
    }`,
  );
  Deno.exit(2);
}
const transportName = values.transport as TransportName;

const ms = (started: number) => `${(performance.now() - started).toFixed(1)} ms`;
const createServer = () =>
  v2 ? createExampleServerV2({ stepMs: 200 }) : createExampleServer({ stepMs: 200 });

async function wireSqs(broker: Broker): Promise<Wiring> {
  const sqs = broker.sqsClient();
  const requests = await broker.createQueue(sqs, "asyncmcp-demo-requests");
  const replies = await broker.createQueue(sqs, "asyncmcp-demo-replies");
  console.log(`request queue:  ${requests.url}\nresponse queue: ${replies.url}`);
  return {
    server: new SqsServer({ sqs, requestQueueUrl: requests.url, createServer }),
    transport: new SqsClientTransport({
      sqs,
      requestQueueUrl: requests.url,
      responseQueueUrl: replies.url,
    }),
  };
}

async function wireSnsSqs(broker: Broker): Promise<Wiring> {
  const sqs = broker.sqsClient();
  const sns = broker.snsClient();
  const clientId = "demo-client";
  const topology = await ensureSnsSqsTopology({
    sqs,
    sns,
    requestTopic: "asyncmcp-demo-requests",
    serverQueue: "asyncmcp-demo-server",
    replyTopic: "asyncmcp-demo-replies",
    clientQueue: `asyncmcp-demo-${clientId}`,
    clientId,
    // Fan-out: an audit queue on the request topic sees every request the server gets.
    auditQueues: ["asyncmcp-demo-audit"],
  });
  console.log(
    `request topic: ${topology.requestTopicArn}\nreply topic:   ${topology.responseTopicArn}`,
  );
  return {
    server: new SnsSqsServer({
      sqs,
      sns,
      requestQueueUrl: topology.requestQueueUrl,
      requestTopicArn: topology.requestTopicArn,
      createServer,
    }),
    transport: new SnsSqsClientTransport({ sqs, sns, ...topology, clientId }),
    async epilogue() {
      const seen: string[] = [];
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: topology.auditQueueUrls[0],
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        );
        if (Messages.length === 0) break;
        for (const message of Messages) seen.push(JSON.parse(message.Body ?? "{}").method);
      }
      console.log(`audit queue (fan-out) saw ${seen.length} messages: ${seen.join(", ")}`);
    },
  };
}

function wireWebhook(): Wiring {
  const server = new WebhookServer({
    createServer,
    // Loopback is refused by default (SSRF); this demo's client listens on 127.0.0.1.
    addressPolicy: webhookUrlPolicy({ allowHosts: ["127.0.0.1"] }),
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  const serverUrl = `http://127.0.0.1:${http.addr.port}/mcp/request`;
  const transport = new WebhookClientTransport({
    serverUrl,
    listen: true,
    // The client picks a secret for this session; the server signs every delivery with it.
    perSessionSecret: true,
  });
  console.log(`server URL: ${serverUrl} (webhook deliveries signed per session)`);
  return {
    server,
    transport,
    epilogue() {
      console.log(`webhook URL: ${(transport as WebhookClientTransport).webhookUrl}`);
      return Promise.resolve();
    },
    shutdown: () => http.shutdown(),
  };
}

function wireStreamableHttpWebhook(): Wiring {
  const server = new StreamableHttpWebhookServer({
    createServer,
    // Quick tools answer on the HTTP stream; this one's result and progress go to the webhook.
    webhookTools: ["slow_count"],
    addressPolicy: webhookUrlPolicy({ allowHosts: ["127.0.0.1"] }),
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  const serverUrl = `http://127.0.0.1:${http.addr.port}/mcp`;
  const transport = new StreamableHttpWebhookClientTransport({
    serverUrl,
    listen: true,
    perSessionSecret: true,
  });
  console.log(`server URL: ${serverUrl} (Streamable HTTP; slow_count answers by webhook)`);
  return {
    server,
    transport,
    epilogue() {
      console.log(`webhook URL: ${transport.webhookUrl}`);
      return Promise.resolve();
    },
    shutdown: () => http.shutdown(),
  };
}

const brokered = transportName === "sqs" || transportName === "sns-sqs";
let broker: Broker | undefined;
if (brokered) {
  broker = await startBroker();
  console.log(
    broker.embedded
      ? `broker: embedded fauxqs at ${broker.endpoint}`
      : `broker: ${broker.endpoint} (AWS_ENDPOINT_URL)`,
  );
}
const { server, transport, epilogue, shutdown } = transportName === "webhook"
  ? wireWebhook()
  : transportName === "streamable-http-webhook"
  ? wireStreamableHttpWebhook()
  : transportName === "sqs"
  ? await wireSqs(broker!)
  : await wireSnsSqs(broker!);
await server.start?.();

const info = { name: "asyncmcp-demo", version: "1.0.0" };
// A v2 client asks the server which revisions it serves and falls back to a 2025 session.
const client = v2 ? new ClientV2(info, { versionNegotiation: { mode: "auto" } }) : new Client(info);
let started = performance.now();
await client.connect(transport);
const era = "getNegotiatedProtocolVersion" in client
  ? client.getNegotiatedProtocolVersion()
  : "2025-11-25";
console.log(
  `\nconnected to ${client.getServerVersion()?.name} over ${transportName} in ${ms(started)} ` +
    `(SDK ${values.sdk}, MCP ${era})`,
);

started = performance.now();
const { tools } = await client.listTools();
const named = tools.map((tool) =>
  tool._meta?.[DELIVERY_META_KEY] === "webhook" ? `${tool.name} (by webhook)` : tool.name
);
console.log(`tools/list (${ms(started)}): ${named.join(", ")}`);

started = performance.now();
const echo = await client.callTool({ name: "echo", arguments: { text: "hello, asynchronously" } });
console.log(`echo (${ms(started)}): ${JSON.stringify(echo.content)}`);

started = performance.now();
const onprogress = ({ progress, total, message }: {
  progress: number;
  total?: number;
  message?: string;
}) => console.log(`  progress ${progress}/${total}: ${message} (${ms(started)})`);
const slowCount = { name: "slow_count", arguments: { to: 5 } };
const counted = client instanceof ClientV2
  ? await client.callTool(slowCount, { onprogress })
  : await client.callTool(slowCount, undefined, { onprogress });
console.log(`slow_count (${ms(started)}): ${JSON.stringify(counted.content)}`);

await epilogue?.();
await client.close();
await server.close();
await shutdown?.();
await broker?.close();
console.log("\ndone");

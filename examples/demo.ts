/**
 * `deno task demo`: an MCP server and an SDK client talking over SQS on the embedded broker (or on
 * `AWS_ENDPOINT_URL`). Lists the tools, calls a quick one and a long-running one that reports
 * progress, prints results and round-trip times, and exits 0.
 *
 * Usage: `deno task demo [--transport sqs]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Client } from "../sdk.ts";
import { consoleLogger } from "../session/logger.ts";
import { SqsClientTransport, SqsServer } from "../transports/sqs.ts";
import { startBroker } from "./embedded_broker.ts";
import { createExampleServer } from "./example_server.ts";

const TRANSPORTS = ["sqs"] as const;

const { values } = parseArgs({
  args: Deno.args,
  options: { transport: { type: "string", default: "sqs" }, help: { type: "boolean" } },
});
if (values.help) {
  console.log(`Usage: deno task demo [--transport ${TRANSPORTS.join("|")}]`);
  Deno.exit(0);
}
if (!TRANSPORTS.includes(values.transport as typeof TRANSPORTS[number])) {
  console.error(
    `Cannot run demo as transport '${values.transport}' is unknown: use one of ${
      TRANSPORTS.join(", ")
    }`,
  );
  Deno.exit(2);
}

const ms = (started: number) => `${(performance.now() - started).toFixed(1)} ms`;

const broker = await startBroker();
console.log(
  broker.embedded
    ? `broker: embedded fauxqs at ${broker.endpoint}`
    : `broker: ${broker.endpoint} (AWS_ENDPOINT_URL)`,
);
const sqs = broker.sqsClient();
const requests = await broker.createQueue(sqs, "asyncmcp-demo-requests");
const replies = await broker.createQueue(sqs, "asyncmcp-demo-replies");
console.log(`request queue:  ${requests.url}\nresponse queue: ${replies.url}`);

const server = new SqsServer({
  sqs,
  requestQueueUrl: requests.url,
  createServer: () => createExampleServer({ stepMs: 200 }),
  logger: consoleLogger({ level: "warn" }),
});
await server.start();

const client = new Client({ name: "asyncmcp-demo", version: "1.0.0" });
let started = performance.now();
await client.connect(
  new SqsClientTransport({ sqs, requestQueueUrl: requests.url, responseQueueUrl: replies.url }),
);
console.log(`\nconnected to ${client.getServerVersion()?.name} over SQS in ${ms(started)}`);

started = performance.now();
const { tools } = await client.listTools();
console.log(`tools/list (${ms(started)}): ${tools.map((tool) => tool.name).join(", ")}`);

started = performance.now();
const echo = await client.callTool({ name: "echo", arguments: { text: "hello over SQS" } });
console.log(`echo (${ms(started)}): ${JSON.stringify(echo.content)}`);

started = performance.now();
const counted = await client.callTool({ name: "slow_count", arguments: { to: 5 } }, undefined, {
  onprogress: ({ progress, total, message }) =>
    console.log(`  progress ${progress}/${total}: ${message} (${ms(started)})`),
});
console.log(`slow_count (${ms(started)}): ${JSON.stringify(counted.content)}`);

await client.close();
await server.close();
sqs.destroy();
await broker.close();
console.log("\ndone");

/**
 * The benchmark's MCP server, run as its own process as it would be in production: serves the
 * example server over SQS on `--queue` at `--endpoint`, prints `ready`, and on end of standard
 * input prints the number of AWS API requests it made as JSON, then exits.
 *
 * @module
 */

import { SQSClient } from "@aws-sdk/client-sqs";
import { createExampleServer } from "../examples/example_server.ts";
import { SqsServer } from "../transports/sqs.ts";

const [endpoint, queueUrl, pollers] = Deno.args;
const sqs = new SQSClient({
  endpoint,
  region: Deno.env.get("AWS_REGION") ?? "us-east-1",
  ...(Deno.env.get("AWS_ENDPOINT_URL")
    ? {}
    : { credentials: { accessKeyId: "test", secretAccessKey: "test" } }),
});
const counts: Record<string, number> = {};
sqs.middlewareStack.add((next, context) => (args) => {
  const name = context.commandName ?? "unknown";
  counts[name] = (counts[name] ?? 0) + 1;
  return next(args);
}, { step: "initialize", name: "asyncmcpBenchCounter" });

const server = new SqsServer({
  sqs,
  requestQueueUrl: queueUrl,
  createServer: () => createExampleServer(),
  pollers: Number(pollers ?? 2),
});
await server.start();
console.log("ready");
const input = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
for await (const line of input) {
  if (line.includes("reset")) { for (const key of Object.keys(counts)) delete counts[key]; }
  if (line.includes("report")) console.log(JSON.stringify(counts));
}
await server.close();
sqs.destroy();

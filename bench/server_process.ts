/**
 * The benchmark's MCP server, run as its own process as it would be in production. Arguments:
 * `sqs|sns-sqs <endpoint> <request queue URL> <pollers>`. Prints `ready`; on a line `reset` it
 * zeroes its AWS API request counts and CPU time, on `report` prints both as JSON; it exits at
 * end of input.
 *
 * @module
 */

import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import process from "node:process";
import { createExampleServer } from "../examples/example_server.ts";
import type { HostedServer } from "../session/hosted_server.ts";
import { SnsSqsServer } from "../transports/sns_sqs/mod.ts";
import { SqsServer } from "../transports/sqs/mod.ts";
import { countFetchRequests } from "./fetch_counter.ts";

const [transport, endpoint, queueUrl, pollers] = Deno.args;
const config = {
  ...(endpoint === "aws" ? {} : { endpoint }),
  region: Deno.env.get("AWS_REGION") ?? "us-east-1",
  ...(Deno.env.get("AWS_ENDPOINT_URL")
    ? {}
    : { credentials: { accessKeyId: "test", secretAccessKey: "test" } }),
};
const sqs = new SQSClient(config);
const sns = new SNSClient(config);
const counts: Record<string, number> = {};
const count = (name = "unknown") => counts[name] = (counts[name] ?? 0) + 1;
sqs.middlewareStack.add((next, context) => (args) => {
  count(context.commandName);
  return next(args);
}, { step: "initialize", name: "asyncmcpBenchCounter" });
sns.middlewareStack.add((next, context) => (args) => {
  count(context.commandName);
  return next(args);
}, { step: "initialize", name: "asyncmcpBenchCounter" });
if (endpoint !== "aws") countFetchRequests(endpoint, count);
let cpuSince = process.cpuUsage();

const options = {
  sqs,
  requestQueueUrl: queueUrl,
  createServer: () => createExampleServer(),
  pollers: Number(pollers ?? 1),
};
const server: HostedServer = transport === "sns-sqs"
  ? new SnsSqsServer({ ...options, sns })
  : new SqsServer(options);
await server.start();
console.log("ready");
const input = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
for await (const line of input) {
  if (line.includes("reset")) {
    for (const key of Object.keys(counts)) delete counts[key];
    cpuSince = process.cpuUsage();
  }
  if (line.includes("report")) {
    const { user, system } = process.cpuUsage(cpuSince);
    console.log(JSON.stringify({ counts, cpuMs: (user + system) / 1000 }));
  }
}
await server.close();
sqs.destroy();
sns.destroy();
// Deno 2.9 keeps the connection of an aborted long poll open for about 90 s (README: Shutdown).
Deno.exit(0);

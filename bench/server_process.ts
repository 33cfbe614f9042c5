/**
 * The benchmark's MCP server, run as its own process as it would be in production. Its one
 * argument is a {@linkcode ServerProcessConfig} as JSON. Prints `ready`; on a line `reset` it
 * zeroes its AWS API request counts and CPU time, on `report` prints both as JSON with its
 * session count, on `memory` collects garbage and prints its heap and resident set size; it exits
 * at end of input. Run it with `--v8-flags=--expose-gc` for `memory`.
 *
 * @module
 */

import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import process from "node:process";
import { createExampleServer, createExampleServerV2 } from "../examples/example_server.ts";
import type { HostedServer } from "../session/hosted_server.ts";
import { SnsSqsServer } from "../transports/sns_sqs/mod.ts";
import { SqsServer } from "../transports/sqs/mod.ts";
import { countFetchRequests } from "./fetch_counter.ts";
import { serveRawPipeline } from "./raw_pipeline.ts";

/** What one server process serves, and how. */
export interface ServerProcessConfig {
  /** The transport of its request queue. */
  transport: "sqs" | "sns-sqs";
  /** The broker's endpoint, or `aws` for AWS's own endpoints. */
  endpoint: string;
  /** The queue it reads. */
  queueUrl: string;
  /**
   * `v1`: an SDK v1 example server (2025-11-25 sessions only); `v2`: the SDK v2 example server
   * (both eras); `raw`: the raw pipeline's server half, no MCP at all.
   */
  kind: "v1" | "v2" | "raw";
  /** Most long polls on the queue (`pollers`; for `raw`, the polls always running). */
  pollers?: number;
  /** For `raw`: where answers go (the reply queue URL or topic ARN). */
  sendTo?: string;
  /** More server options (`maxSessions`, ...), for experiments and the memory figure. */
  options?: Record<string, unknown>;
}

/** What `report` prints. */
export interface ServerReport {
  /** AWS API requests by command since the last `reset`. */
  counts: Record<string, number>;
  /** CPU time since the last `reset`, in ms. */
  cpuMs: number;
  /** Sessions the server holds. */
  sessions: number;
  /** When the first and the last counted request went out, in ms on this process's clock. */
  firstRequestAt?: number;
  lastRequestAt?: number;
}

/** What `memory` prints, after collecting garbage. */
export interface ServerMemory {
  heapUsed: number;
  rss: number;
}

if (import.meta.main) await main(JSON.parse(Deno.args[0]) as ServerProcessConfig);

async function main(config: ServerProcessConfig): Promise<void> {
  const { endpoint } = config;
  const clientConfig = {
    ...(endpoint === "aws" ? {} : { endpoint }),
    region: Deno.env.get("AWS_REGION") ?? "us-east-1",
    ...(Deno.env.get("AWS_ENDPOINT_URL") || endpoint === "aws"
      ? {}
      : { credentials: { accessKeyId: "test", secretAccessKey: "test" } }),
  };
  const sqs = new SQSClient(clientConfig);
  const sns = new SNSClient(clientConfig);
  const counts: Record<string, number> = {};
  let firstRequestAt: number | undefined;
  let lastRequestAt: number | undefined;
  const count = (name = "unknown") => {
    counts[name] = (counts[name] ?? 0) + 1;
    lastRequestAt = performance.now();
    firstRequestAt ??= lastRequestAt;
  };
  for (const client of [sqs, sns] as SQSClient[]) {
    client.middlewareStack.add((next, context) => (args) => {
      count(context.commandName);
      return next(args);
    }, { step: "initialize", name: "asyncmcpBenchCounter" });
  }
  if (endpoint !== "aws") countFetchRequests(endpoint, count);
  let cpuSince = process.cpuUsage();

  let server: HostedServer | undefined;
  let raw: { close(): Promise<void> } | undefined;
  if (config.kind === "raw") {
    raw = serveRawPipeline({
      sqs,
      sns,
      queueUrl: config.queueUrl,
      sendTo: config.sendTo!,
      polls: config.pollers ?? 1,
    });
  } else {
    const options = {
      sqs,
      requestQueueUrl: config.queueUrl,
      createServer: config.kind === "v2"
        ? () => createExampleServerV2()
        : () => createExampleServer(),
      ...(config.pollers === undefined ? {} : { pollers: config.pollers }),
      ...config.options,
    };
    server = config.transport === "sns-sqs"
      ? new SnsSqsServer({ ...options, sns })
      : new SqsServer(options);
    await server.start();
  }
  console.log("ready");
  const gc = (globalThis as { gc?: () => void }).gc;
  const input = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  for await (const chunk of input) {
    for (const line of chunk.split("\n").filter(Boolean)) {
      if (line === "reset") {
        for (const key of Object.keys(counts)) delete counts[key];
        firstRequestAt = lastRequestAt = undefined;
        cpuSince = process.cpuUsage();
      } else if (line === "report") {
        const { user, system } = process.cpuUsage(cpuSince);
        const report: ServerReport = {
          counts,
          cpuMs: (user + system) / 1000,
          sessions: server?.status.sessions ?? 0,
          firstRequestAt,
          lastRequestAt,
        };
        console.log(JSON.stringify(report));
      } else if (line === "memory") {
        // Twice: the first pass can leave finalised objects for the second.
        gc?.();
        gc?.();
        const { heapUsed, rss } = Deno.memoryUsage();
        console.log(JSON.stringify({ heapUsed, rss } satisfies ServerMemory));
      }
    }
  }
  await server?.close();
  await raw?.close();
  sqs.destroy();
  sns.destroy();
  // Deno 2.9 keeps the connection of an aborted long poll open for about 90 s (README: Shutdown).
  Deno.exit(0);
}

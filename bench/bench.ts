/**
 * `deno task bench`: latency and throughput of MCP over SQS and SNS+SQS on the embedded broker
 * (or on `AWS_ENDPOINT_URL`), and over webhooks beside the SDK's own Streamable HTTP on loopback.
 *
 * Three processes, as in production: the broker, the MCP server (`server_process.ts`) and the
 * clients (this one). Raw broker round trips and tools/call samples are taken alternately, so
 * that both see the same machine. Shows each step on standard error as it runs (a progress bar on a
 * terminal) and prints the Markdown tables for the README on standard output at the end.
 *
 * Environment: `BENCH_CALLS` (sequential calls, default 1000), `BENCH_LOAD_CALLS` (calls under
 * load, default 20000), `BENCH_HTTP_LOAD_CALLS` (over HTTP, default 5000), `BENCH_ONLY` (`broker` or `http`: one section), `BENCH_SERVER_POLLERS` / `BENCH_CLIENT_POLLERS` (default 1),
 * `ASYNCMCP_AWS_HTTP=sdk` (the hot calls through the AWS SDK instead of `fetch`, in both processes),
 * `BENCH_PROFILE_DIR` (write the server's CPU profile there), `BENCH_VERBOSE` (API call counts).
 *
 * @module
 */

import type { SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import process from "node:process";
import { type Broker, startBroker } from "../examples/embedded_broker.ts";
import { Progress, type ProgressStep } from "./progress.ts";
import { createExampleServer } from "../examples/example_server.ts";
import { StreamableHttpProxy } from "../proxy/http_proxy.ts";
import { silentLogger } from "../session/logger.ts";
import {
  Client,
  StreamableHTTPClientTransport,
  type Transport,
  WebStandardStreamableHTTPServerTransport,
} from "../sdk.ts";
import type { ClientTransport } from "../session/client_transport.ts";
import {
  ensureQueue,
  ensureTopic,
  SnsSqsClientTransport,
  subscribeQueue,
} from "../transports/sns_sqs/mod.ts";
import { SqsClientTransport } from "../transports/sqs/mod.ts";
import {
  StreamableHttpWebhookClientTransport,
  StreamableHttpWebhookServer,
} from "../transports/streamable_http_webhook/mod.ts";
import {
  WebhookClientTransport,
  WebhookReceiver,
  WebhookServer,
  webhookUrlPolicy,
} from "../transports/webhook/mod.ts";
import { snsCalls } from "../transports/aws/sns_calls.ts";
import { sqsCalls } from "../transports/aws/sqs_calls.ts";
import { countFetchRequests } from "./fetch_counter.ts";

const SEQUENTIAL_CALLS = Number(Deno.env.get("BENCH_CALLS") ?? 1000);
const LOAD_CALLS = Number(Deno.env.get("BENCH_LOAD_CALLS") ?? 20_000);
const SERVER_POLLERS = Number(Deno.env.get("BENCH_SERVER_POLLERS") ?? 1);
const CLIENT_POLLERS = Number(Deno.env.get("BENCH_CLIENT_POLLERS") ?? 1);
const PROFILE_DIR = Deno.env.get("BENCH_PROFILE_DIR");
const VERBOSE = Boolean(Deno.env.get("BENCH_VERBOSE"));
const ONLY = Deno.env.get("BENCH_ONLY");
const HTTP_LOAD_CALLS = Number(Deno.env.get("BENCH_HTTP_LOAD_CALLS") ?? 5000);
const LOAD_CLIENTS = 8;
/** Where this process's fetch-path requests are counted: the counts of the current phase. */
let fetchCounts: Counts = new Map();
const IN_FLIGHT = 256;
const WARM_UP = 100;
/** Calls under load before the measured ones (no more than those). */
const LOAD_WARM_UP = Math.min(2000, LOAD_CALLS);
const HTTP_LOAD_WARM_UP = Math.min(1000, HTTP_LOAD_CALLS);

type Counts = Map<string, number>;

const progress = new Progress();
/** The tables, printed once every section has run. */
const report: string[] = [];

/** One transport under test: how to reach its server and how to build its clients. */
interface Target {
  name: string;
  /** The server process's arguments after the endpoint. */
  serverArgs: string[];
  /** A client transport replying on reply channel `channel` (one per load client, or shared). */
  transport(sqs: SQSClient, sns: SNSClient, channel: number): Promise<ClientTransport>;
  /** One raw broker round trip through the same kind of channel, in ms. */
  rawRoundTrip(sqs: SQSClient, sns: SNSClient): Promise<number>;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function counted(broker: Broker, counts: Counts): { sqs: SQSClient; sns: SNSClient } {
  fetchCounts = counts;
  const count = (name = "unknown") => counts.set(name, (counts.get(name) ?? 0) + 1);
  const sqs = broker.sqsClient();
  sqs.middlewareStack.add((next, context) => (args) => {
    count(context.commandName);
    return next(args);
  }, { step: "initialize", name: "asyncmcpBenchCounter" });
  const sns = broker.snsClient();
  sns.middlewareStack.add((next, context) => (args) => {
    count(context.commandName);
    return next(args);
  }, { step: "initialize", name: "asyncmcpBenchCounter" });
  return { sqs, sns };
}

function sum(counts: Counts | Record<string, number>): number {
  return [...(counts instanceof Map ? counts.values() : Object.values(counts))]
    .reduce((total, value) => total + value, 0);
}

/**
 * Send (or publish) one message while a long poll waits on `queueUrl`; time until it returns.
 * The calls take the same path as the transports (`ASYNCMCP_AWS_HTTP`), so that the ratio
 * compares like with like.
 */
async function timeRoundTrip(
  sqs: SQSClient,
  queueUrl: string,
  send: () => Promise<unknown>,
): Promise<number> {
  const calls = sqsCalls(sqs);
  const receiving = calls.receiveMessage({
    QueueUrl: queueUrl,
    WaitTimeSeconds: 20,
    MaxNumberOfMessages: 10,
    MessageAttributeNames: ["All"],
  });
  await new Promise((resolve) => setTimeout(resolve, 1));
  const started = performance.now();
  await send();
  const { Messages = [] } = await receiving;
  const elapsed = performance.now() - started;
  if (Messages.length > 0) {
    await calls.deleteMessageBatch({
      QueueUrl: queueUrl,
      Entries: Messages.map((message, index) => ({
        Id: String(index),
        ReceiptHandle: message.ReceiptHandle!,
      })),
    });
  }
  return elapsed;
}

async function sqsTarget(setup: SQSClient, run: string): Promise<Target> {
  const requests = await ensureQueue(setup, `bench-requests-${run}`);
  const raw = await ensureQueue(setup, `bench-raw-${run}`);
  const replies = await Promise.all(
    Array.from(
      { length: LOAD_CLIENTS + 1 },
      (_, i) => ensureQueue(setup, `bench-replies-${i}-${run}`),
    ),
  );
  return {
    name: "SQS",
    serverArgs: ["sqs", requests.url],
    transport: (sqs, _sns, channel) =>
      Promise.resolve(
        new SqsClientTransport({
          sqs,
          requestQueueUrl: requests.url,
          responseQueueUrl: replies[channel].url,
          pollers: CLIENT_POLLERS,
        }),
      ),
    rawRoundTrip: (sqs) =>
      timeRoundTrip(
        sqs,
        raw.url,
        () => sqsCalls(sqs).sendMessage({ QueueUrl: raw.url, MessageBody: "{}" }),
      ),
  };
}

async function snsTarget(setup: SQSClient, run: string, broker: Broker): Promise<Target> {
  const sns = broker.snsClient();
  const requestTopicArn = await ensureTopic(sns, `bench-requests-${run}`);
  const serverQueue = await ensureQueue(setup, `bench-server-${run}`);
  await subscribeQueue({ sns, sqs: setup, topicArn: requestTopicArn, queue: serverQueue });
  const replyTopicArn = await ensureTopic(sns, `bench-replies-${run}`);
  const rawTopicArn = await ensureTopic(sns, `bench-raw-${run}`);
  const rawQueue = await ensureQueue(setup, `bench-sns-raw-${run}`);
  await subscribeQueue({ sns, sqs: setup, topicArn: rawTopicArn, queue: rawQueue });
  const queues = await Promise.all(
    Array.from({ length: LOAD_CLIENTS + 1 }, async (_, i) => {
      const queue = await ensureQueue(setup, `bench-sns-replies-${i}-${run}`);
      await subscribeQueue({
        sns,
        sqs: setup,
        topicArn: replyTopicArn,
        queue,
        clientId: `client-${i}`,
      });
      return queue;
    }),
  );
  const shared = await ensureQueue(setup, `bench-sns-shared-${run}`);
  await subscribeQueue({ sns, sqs: setup, topicArn: replyTopicArn, queue: shared });
  sns.destroy();
  let next = 0;
  return {
    name: "SNS+SQS",
    serverArgs: ["sns-sqs", serverQueue.url],
    transport: (sqs, sns, channel) => {
      // Channel LOAD_CLIENTS is "shared": every client reads one unfiltered queue.
      const own = channel < LOAD_CLIENTS ? channel : undefined;
      return Promise.resolve(
        new SnsSqsClientTransport({
          sqs,
          sns,
          requestTopicArn,
          responseTopicArn: replyTopicArn,
          responseQueueUrl: own === undefined ? shared.url : queues[own].url,
          clientId: own === undefined ? `shared-${next++}` : `client-${own}`,
          pollers: CLIENT_POLLERS,
        }),
      );
    },
    rawRoundTrip: (sqs, sns) =>
      timeRoundTrip(
        sqs,
        rawQueue.url,
        () => snsCalls(sns).publish({ TopicArn: rawTopicArn, Message: "{}" }),
      ),
  };
}

/** The MCP server in its own process, with its API request counts on demand. */
async function startServerProcess(broker: Broker, args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      ...(PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : []),
      new URL("./server_process.ts", import.meta.url).pathname,
      args[0],
      broker.endpoint,
      args[1],
      String(SERVER_POLLERS),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const writer = child.stdin.getWriter();
  let buffered = "";
  const nextLine = async () => {
    while (!buffered.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("Benchmark server process ended unexpectedly");
      buffered += value;
    }
    const line = buffered.slice(0, buffered.indexOf("\n"));
    buffered = buffered.slice(line.length + 1);
    return line;
  };
  await nextLine(); // "ready"
  const say = (text: string) => writer.write(new TextEncoder().encode(text + "\n"));
  return {
    reset: () => say("reset"),
    async report(): Promise<{ counts: Record<string, number>; cpuMs: number }> {
      await say("report");
      return JSON.parse(await nextLine());
    },
    async stop() {
      await writer.close();
      await lines.cancel();
      await child.status;
    },
  };
}

async function connect(transport: Transport): Promise<Client> {
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

/** Alternates raw round trips and tools/calls; returns both sets of samples. */
async function latency(broker: Broker, target: Target, step: ProgressStep) {
  const { sqs, sns } = counted(broker, new Map());
  const client = await connect(await target.transport(sqs, sns, 0));
  const raw: number[] = [];
  const calls: number[] = [];
  for (let i = 0; i < SEQUENTIAL_CALLS + WARM_UP; i++) {
    const rawSample = await target.rawRoundTrip(sqs, sns);
    const started = performance.now();
    await client.callTool({ name: "echo", arguments: { text: `call ${i}` } });
    const callSample = performance.now() - started;
    if (i >= WARM_UP) {
      raw.push(rawSample);
      calls.push(callSample);
    }
    step.tick();
  }
  await client.close();
  sqs.destroy();
  sns.destroy();
  return { raw, calls };
}

async function load(
  broker: Broker,
  target: Target,
  server: Awaited<ReturnType<typeof startServerProcess>>,
  channels: number[],
  step: ProgressStep,
): Promise<LoadResult> {
  const counts: Counts = new Map();
  const { sqs, sns } = counted(broker, counts);
  const clients = await Promise.all(
    channels.map(async (channel) => await connect(await target.transport(sqs, sns, channel))),
  );
  const run = async (calls: number) => {
    let issued = 0;
    const worker = async (client: Client) => {
      while (issued < calls) {
        issued++;
        await client.callTool({ name: "echo", arguments: { text: "load" } });
        step.tick();
      }
    };
    const started = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, (_, i) => worker(clients[i % clients.length])),
    );
    return calls / ((performance.now() - started) / 1000);
  };
  await run(LOAD_WARM_UP);
  counts.clear();
  await server.reset();
  const cpuSince = process.cpuUsage();
  const callsPerSecond = await run(LOAD_CALLS);
  const { user, system } = process.cpuUsage(cpuSince);
  const { counts: serverCounts, cpuMs: serverCpuMs } = await server.report();
  if (VERBOSE) console.error(target.name, { client: counts, server: serverCounts });
  await Promise.all(clients.map((client) => client.close()));
  sqs.destroy();
  sns.destroy();
  return {
    callsPerSecond,
    requestsPerCall: (sum(counts) + sum(serverCounts)) / LOAD_CALLS,
    clientCpuMsPerCall: (user + system) / 1000 / LOAD_CALLS,
    serverCpuMsPerCall: serverCpuMs / LOAD_CALLS,
  };
}

interface LoadResult {
  callsPerSecond: number;
  requestsPerCall: number;
  /** CPU time of this (the clients') process per call, in ms. */
  clientCpuMsPerCall: number;
  /** CPU time of the server process per call, in ms. */
  serverCpuMsPerCall: number;
}

/**
 * tools/calls from the SDK's Streamable HTTP client through the proxy (in this process) to the
 * target's server: what the proxy adds to a direct client of the same transport.
 */
async function proxiedLatency(
  broker: Broker,
  target: Target,
  step: ProgressStep,
): Promise<number[]> {
  const { sqs, sns } = counted(broker, new Map());
  const proxy = new StreamableHttpProxy({
    backend: () => target.transport(sqs, sns, 0),
    logger: silentLogger,
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, proxy.fetch);
  const client = await connect(
    new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${http.addr.port}/mcp`)),
  );
  const samples: number[] = [];
  for (let i = 0; i < SEQUENTIAL_CALLS + WARM_UP; i++) {
    const started = performance.now();
    await client.callTool({ name: "echo", arguments: { text: `call ${i}` } });
    if (i >= WARM_UP) samples.push(performance.now() - started);
    step.tick();
  }
  await client.close();
  await proxy.close();
  await http.shutdown();
  sqs.destroy();
  sns.destroy();
  return samples;
}

/** An MCP endpoint over plain HTTP on loopback, and how to connect a client to it. */
interface HttpTarget {
  name: string;
  connect(): Promise<Client>;
  close(): Promise<void>;
}

/** The SDK's own Streamable HTTP, one server transport per session: the reference. */
function streamableHttpTarget(): HttpTarget {
  const transports = new Map<string, WebStandardStreamableHTTPServerTransport>();
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const sessionId = request.headers.get("mcp-session-id");
    let transport = sessionId ? transports.get(sessionId) : undefined;
    if (!transport) {
      transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        onsessioninitialized: (id) => void transports.set(id, transport!),
      });
      await createExampleServer().connect(transport);
    }
    return transport.handleRequest(request);
  });
  const url = new URL(`http://127.0.0.1:${http.addr.port}/mcp`);
  return {
    name: "SDK Streamable HTTP",
    connect: async () => {
      const client = new Client({ name: "bench-http", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(url));
      return client;
    },
    close: async () => {
      for (const transport of transports.values()) await transport.close();
      await http.shutdown();
    },
  };
}

/** asyncmcp's webhook transport: POSTs one way, signed deliveries to one shared receiver back. */
async function webhookTarget(): Promise<HttpTarget> {
  const secret = `whsec_${
    btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))
  }`;
  const server = new WebhookServer({
    createServer: () => createExampleServer(),
    addressPolicy: webhookUrlPolicy({ allowHosts: ["127.0.0.1"] }),
    signingKey: secret,
  });
  await server.start();
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  const receiver = new WebhookReceiver({ signingKey: secret });
  const webhookUrl = await receiver.listen();
  const serverUrl = `http://127.0.0.1:${http.addr.port}/mcp/request`;
  return {
    name: "webhook (signed)",
    connect: () => connect(new WebhookClientTransport({ serverUrl, webhookUrl, receiver })),
    close: async () => {
      await server.close();
      await receiver.close();
      await http.shutdown();
    },
  };
}

/** asyncmcp's Streamable HTTP + webhook, with echo answered on the stream or by webhook. */
function hybridTarget(byWebhook: boolean): HttpTarget {
  const server = new StreamableHttpWebhookServer({
    createServer: () => createExampleServer(),
    webhookTools: byWebhook ? ["echo"] : [],
    addressPolicy: webhookUrlPolicy({ allowHosts: ["127.0.0.1"] }),
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  const receiver = new WebhookReceiver();
  const serverUrl = `http://127.0.0.1:${http.addr.port}/mcp`;
  return {
    name: byWebhook ? "StreamableHTTP+Webhook, by webhook" : "StreamableHTTP+Webhook, quick",
    connect: async () => {
      const webhookUrl = receiver.url ?? await receiver.listen();
      return await connect(
        new StreamableHttpWebhookClientTransport({ serverUrl, webhookUrl, receiver }),
      );
    },
    close: async () => {
      await server.close();
      await receiver.close();
      await http.shutdown();
    },
  };
}

/** Sequential tools/calls over each target, sampled alternately so that all see the same machine. */
async function httpLatency(targets: HttpTarget[], step: ProgressStep): Promise<number[][]> {
  const clients = await Promise.all(targets.map((target) => target.connect()));
  const samples = targets.map(() => [] as number[]);
  for (let i = 0; i < SEQUENTIAL_CALLS + WARM_UP; i++) {
    for (const [index, client] of clients.entries()) {
      const started = performance.now();
      await client.callTool({ name: "echo", arguments: { text: `call ${i}` } });
      if (i >= WARM_UP) samples[index].push(performance.now() - started);
      step.tick();
    }
  }
  await Promise.all(clients.map((client) => client.close()));
  return samples;
}

/** tools/calls per second with IN_FLIGHT calls over LOAD_CLIENTS clients. */
async function httpLoad(target: HttpTarget, calls: number, step: ProgressStep): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: LOAD_CLIENTS }, () => target.connect()),
  );
  const run = async (total: number) => {
    let issued = 0;
    const worker = async (client: Client) => {
      while (issued < total) {
        issued++;
        await client.callTool({ name: "echo", arguments: { text: "load" } });
        step.tick();
      }
    };
    const started = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, (_, i) => worker(clients[i % clients.length])),
    );
    return total / ((performance.now() - started) / 1000);
  };
  await run(HTTP_LOAD_WARM_UP);
  const callsPerSecond = await run(calls);
  await Promise.all(clients.map((client) => client.close()));
  return callsPerSecond;
}

const ms = (value: number) => `${value.toFixed(2)} ms`;
const row = (label: string, values: string[], target = "") =>
  report.push(`| ${label} | ${values.join(" | ")} | ${target} |`);
const median = (samples: number[]) => `median ${ms(percentile(samples, 0.5))}`;
const perSecond = (value: number) => `${Math.round(value)} calls/s`;

/** SQS and SNS+SQS: latency against raw broker round trips, and throughput under load. */
async function brokerSection(): Promise<void> {
  const broker = await startBroker({ childProcess: true });
  countFetchRequests(
    broker.endpoint,
    (name) => fetchCounts.set(name, (fetchCounts.get(name) ?? 0) + 1),
  );
  const setup = broker.sqsClient();
  const run = crypto.randomUUID().slice(0, 8);
  const results: Array<{
    name: string;
    raw: number[];
    calls: number[];
    shared: LoadResult;
    own: LoadResult;
    proxied: number[];
  }> = [];
  const sequential = SEQUENTIAL_CALLS + WARM_UP;
  const underLoad = LOAD_WARM_UP + LOAD_CALLS;
  for (const [name, makeTarget] of [["SQS", sqsTarget], ["SNS+SQS", snsTarget]] as const) {
    const starting = progress.step(`${name}: queues, topics and the server process`);
    const target = await makeTarget(setup, run, broker);
    const server = await startServerProcess(broker, target.serverArgs);
    starting.done();
    let step = progress.step(`${name}: raw round trips and tools/calls, alternately`, sequential);
    const { raw, calls } = await latency(broker, target, step);
    step.done(`${median(calls)} (raw ${ms(percentile(raw, 0.5))})`);
    step = progress.step(`${name}: tools/calls through the proxy`, sequential);
    const proxied = await proxiedLatency(broker, target, step);
    step.done(median(proxied));
    const sharedChannel = Array.from({ length: LOAD_CLIENTS }, () => LOAD_CLIENTS);
    const ownChannels = Array.from({ length: LOAD_CLIENTS }, (_, i) => i);
    step = progress.step(`${name}: load, one shared reply queue`, underLoad);
    const shared = await load(broker, target, server, sharedChannel, step);
    step.done(perSecond(shared.callsPerSecond));
    step = progress.step(`${name}: load, a reply queue each`, underLoad);
    const own = await load(broker, target, server, ownChannels, step);
    step.done(perSecond(own.callsPerSecond));
    await server.stop();
    results.push({ name: target.name, raw, calls, proxied, shared, own });
  }
  setup.destroy();
  await broker.close();
  report.push(
    `broker: ${broker.embedded ? "embedded fauxqs (own process)" : broker.endpoint}; ` +
      `Deno ${Deno.version.deno}; ${navigator.hardwareConcurrency} cores; ` +
      `${SEQUENTIAL_CALLS} sequential calls, ${LOAD_CALLS} calls under load; ` +
      `pollers: server ${SERVER_POLLERS}, client ${CLIENT_POLLERS}\n`,
  );
  report.push(`| measure | ${results.map((result) => result.name).join(" | ")} | target |`);
  report.push(`|---|${results.map(() => "---").join("|")}|---|`);
  row(
    "raw broker round trip (send → long-polling receiver), median",
    results.map((r) => ms(percentile(r.raw, 0.5))),
  );
  row(
    "tools/call, 1 client, median",
    results.map((r) => ms(percentile(r.calls, 0.5))),
    "≤ 1.25 × 2 × raw",
  );
  row("tools/call, 1 client, p99", results.map((r) => ms(percentile(r.calls, 0.99))));
  row(
    "tools/call through the proxy (Streamable HTTP client → proxy → transport), median",
    results.map((r) => ms(percentile(r.proxied, 0.5))),
  );
  row(
    "proxy overhead (median through the proxy − direct median)",
    results.map((r) => ms(percentile(r.proxied, 0.5) - percentile(r.calls, 0.5))),
  );
  row(
    "tools/call median ÷ (2 × raw median)",
    results.map((r) => (percentile(r.calls, 0.5) / (2 * percentile(r.raw, 0.5))).toFixed(2)),
    "≤ 1.25",
  );
  row(
    `tools/call/s, ${IN_FLIGHT} in flight over ${LOAD_CLIENTS} clients, one shared reply queue`,
    results.map((r) => `${Math.round(r.shared.callsPerSecond)}`),
    "≥ 3,000",
  );
  row(
    "AWS API requests per tools/call at that load",
    results.map((r) => r.shared.requestsPerCall.toFixed(2)),
    "≤ 1.0",
  );
  row(
    "CPU per tools/call at that load, clients' process / server process",
    results.map((r) =>
      `${r.shared.clientCpuMsPerCall.toFixed(2)} / ${r.shared.serverCpuMsPerCall.toFixed(2)} ms`
    ),
  );
  row(
    `tools/call/s, ${IN_FLIGHT} in flight over ${LOAD_CLIENTS} clients, a reply queue each`,
    results.map((r) => `${Math.round(r.own.callsPerSecond)}`),
  );
  row(
    "AWS API requests per tools/call at that load",
    results.map((r) => r.own.requestsPerCall.toFixed(2)),
  );
}

/** Webhook and StreamableHTTP+Webhook beside the SDK's Streamable HTTP, all on loopback. */
async function httpSection(): Promise<void> {
  const httpTargets = [
    await webhookTarget(),
    hybridTarget(false),
    hybridTarget(true),
    streamableHttpTarget(),
  ];
  let step = progress.step(
    "HTTP: tools/calls over each transport, alternately",
    (SEQUENTIAL_CALLS + WARM_UP) * httpTargets.length,
  );
  const httpSamples = await httpLatency(httpTargets, step);
  step.done(
    httpTargets.map((target, i) => `${target.name} ${ms(percentile(httpSamples[i], 0.5))}`)
      .join(", "),
  );
  const httpThroughput: number[] = [];
  for (const target of httpTargets) {
    step = progress.step(`HTTP: load, ${target.name}`, HTTP_LOAD_WARM_UP + HTTP_LOAD_CALLS);
    httpThroughput.push(await httpLoad(target, HTTP_LOAD_CALLS, step));
    step.done(perSecond(httpThroughput.at(-1)!));
  }
  for (const target of httpTargets) await target.close();
  const http = httpSamples.at(-1)!;
  report.push(
    `\nOver HTTP on loopback, client and server in one process, calls sampled alternately:\n`,
  );
  report.push(`| measure | ${httpTargets.map((target) => target.name).join(" | ")} | target |`);
  report.push(`|---|${httpTargets.map(() => "---").join("|")}|---|`);
  row("tools/call, 1 client, median", httpSamples.map((samples) => ms(percentile(samples, 0.5))));
  row("tools/call, 1 client, p99", httpSamples.map((samples) => ms(percentile(samples, 0.99))));
  row(
    "÷ SDK Streamable HTTP, median / p99",
    httpSamples.map((samples) =>
      `${(percentile(samples, 0.5) / percentile(http, 0.5)).toFixed(2)} / ${
        (percentile(samples, 0.99) / percentile(http, 0.99)).toFixed(2)
      }`
    ),
    "≤ 2 (webhook)",
  );
  row(
    `tools/call/s, ${IN_FLIGHT} in flight over ${LOAD_CLIENTS} clients`,
    httpThroughput.map((value) => `${Math.round(value)}`),
  );
}

if (ONLY !== "http") await brokerSection();
if (ONLY !== "broker") await httpSection();
console.log(report.join("\n"));

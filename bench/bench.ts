/**
 * `deno task bench`: latency and throughput of MCP over SQS on the embedded broker (or on
 * `AWS_ENDPOINT_URL`), beside the SDK's own Streamable HTTP on loopback as the reference.
 *
 * Three processes, as in production: the broker, the MCP server (`server_process.ts`) and the
 * clients (this one). Prints a Markdown table for the README.
 *
 * @module
 */

import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { type Broker, startBroker } from "../examples/embedded_broker.ts";
import { createExampleServer } from "../examples/example_server.ts";
import {
  Client,
  StreamableHTTPClientTransport,
  WebStandardStreamableHTTPServerTransport,
} from "../sdk.ts";
import { SqsClientTransport } from "../transports/sqs.ts";

const SEQUENTIAL_CALLS = Number(Deno.env.get("BENCH_CALLS") ?? 1000);
const LOAD_CALLS = Number(Deno.env.get("BENCH_LOAD_CALLS") ?? 20_000);
const LOAD_CLIENTS = 8;
const IN_FLIGHT = 256;
const WARM_UP = 100;
/** Long polls at once on the server's request queue and on each client reply queue. */
const SERVER_POLLERS = Number(Deno.env.get("BENCH_SERVER_POLLERS") ?? 1);
/** Where the server process writes a CPU profile, when set. */
const PROFILE_DIR = Deno.env.get("BENCH_PROFILE_DIR");
const CLIENT_POLLERS = Number(Deno.env.get("BENCH_CLIENT_POLLERS") ?? 1);

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function countRequests(sqs: SQSClient, counts: Map<string, number>): void {
  sqs.middlewareStack.add((next, context) => (args) => {
    const name = context.commandName ?? "unknown";
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return next(args);
  }, { step: "initialize", name: "asyncmcpBenchCounter" });
}

function total(counts: Map<string, number> | Record<string, number>): number {
  return [...(counts instanceof Map ? counts.values() : Object.values(counts))]
    .reduce((sum, value) => sum + value, 0);
}

async function rawRoundTrip(sqs: SQSClient, queueUrl: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 300; i++) {
    const receiving = sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: 20,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ["All"],
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1));
    const started = performance.now();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "{}" }));
    const { Messages = [] } = await receiving;
    samples.push(performance.now() - started);
    for (const message of Messages) {
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
  return percentile(samples.slice(WARM_UP), 0.5);
}

async function sequentialCalls(client: Client, calls: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < calls + WARM_UP; i++) {
    const started = performance.now();
    await client.callTool({ name: "echo", arguments: { text: `call ${i}` } });
    if (i >= WARM_UP) samples.push(performance.now() - started);
  }
  return samples;
}

async function loadTest(clients: Client[], calls: number): Promise<number> {
  let issued = 0;
  const worker = async (client: Client) => {
    while (issued < calls) {
      issued++;
      await client.callTool({ name: "echo", arguments: { text: "load" } });
    }
  };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, (_, i) => worker(clients[i % clients.length])),
  );
  return calls / ((performance.now() - started) / 1000);
}

/** The MCP server in its own process, with its API request counts on demand. */
async function startServerProcess(broker: Broker, queueUrl: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      ...(PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : []),
      new URL("./server_process.ts", import.meta.url).pathname,
      broker.endpoint,
      queueUrl,
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
    async report(): Promise<Record<string, number>> {
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

async function loadRow(
  broker: Broker,
  server: Awaited<ReturnType<typeof startServerProcess>>,
  requestQueueUrl: string,
  replyQueueUrls: string[],
): Promise<{ callsPerSecond: number; requestsPerCall: number }> {
  const sqs = broker.sqsClient();
  const counts = new Map<string, number>();
  countRequests(sqs, counts);
  const clients = await Promise.all(replyQueueUrls.map(async (responseQueueUrl) => {
    const client = new Client({ name: "bench", version: "1.0.0" });
    await client.connect(
      new SqsClientTransport({ sqs, requestQueueUrl, responseQueueUrl, pollers: CLIENT_POLLERS }),
    );
    return client;
  }));
  await loadTest(clients, 2000);
  counts.clear();
  await server.reset();
  const callsPerSecond = await loadTest(clients, LOAD_CALLS);
  const serverCounts = await server.report();
  const requestsPerCall = (total(counts) + total(serverCounts)) / LOAD_CALLS;
  if (Deno.env.get("BENCH_VERBOSE")) console.log({ client: counts, server: serverCounts });
  await Promise.all(clients.map((client) => client.close()));
  sqs.destroy();
  return { callsPerSecond, requestsPerCall };
}

async function streamableHttpReference(): Promise<number[]> {
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
  const client = new Client({ name: "bench-http", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${http.addr.port}/mcp`)),
  );
  const samples = await sequentialCalls(client, SEQUENTIAL_CALLS);
  await client.close();
  for (const transport of transports.values()) await transport.close();
  await http.shutdown();
  return samples;
}

const broker = await startBroker({ childProcess: true });
const setup = broker.sqsClient();
const run = crypto.randomUUID().slice(0, 8);
const requests = await broker.createQueue(setup, `bench-requests-${run}`);
const raw = await broker.createQueue(setup, `bench-raw-${run}`);
const shared = await broker.createQueue(setup, `bench-replies-${run}`);
const own = await Promise.all(
  Array.from(
    { length: LOAD_CLIENTS },
    (_, i) => broker.createQueue(setup, `bench-replies-${i}-${run}`),
  ),
);
const rawMedian = await rawRoundTrip(setup, raw.url);
setup.destroy();

const server = await startServerProcess(broker, requests.url);
const latencySqs = broker.sqsClient();
const latencyClient = new Client({ name: "bench", version: "1.0.0" });
await latencyClient.connect(
  new SqsClientTransport({
    sqs: latencySqs,
    requestQueueUrl: requests.url,
    responseQueueUrl: own[0].url,
  }),
);
const sqsSamples = await sequentialCalls(latencyClient, SEQUENTIAL_CALLS);
await latencyClient.close();
latencySqs.destroy();

const sharedLoad = await loadRow(broker, server, requests.url, own.map(() => shared.url));
const ownLoad = await loadRow(broker, server, requests.url, own.map((queue) => queue.url));
await server.stop();
await broker.close();

const httpSamples = await streamableHttpReference();

const ms = (value: number) => `${value.toFixed(2)} ms`;
const sqsMedian = percentile(sqsSamples, 0.5);
const rows: Array<[string, string, string]> = [
  ["raw SQS SendMessage → ReceiveMessage, median", ms(rawMedian), ""],
  [
    "tools/call over SQS, 1 client, median",
    ms(sqsMedian),
    `≤ 1.25 × 2 × raw = ${ms(2.5 * rawMedian)}`,
  ],
  ["tools/call over SQS, 1 client, p99", ms(percentile(sqsSamples, 0.99)), ""],
  [
    `tools/call/s, ${IN_FLIGHT} in flight over ${LOAD_CLIENTS} clients sharing one reply queue`,
    `${Math.round(sharedLoad.callsPerSecond)} calls/s`,
    "≥ 3,000 calls/s",
  ],
  ["AWS API requests per tools/call at that load", sharedLoad.requestsPerCall.toFixed(2), "≤ 1.0"],
  [
    `tools/call/s, ${IN_FLIGHT} in flight over ${LOAD_CLIENTS} clients with a reply queue each`,
    `${Math.round(ownLoad.callsPerSecond)} calls/s`,
    "",
  ],
  ["AWS API requests per tools/call at that load", ownLoad.requestsPerCall.toFixed(2), ""],
  [
    "SDK Streamable HTTP tools/call on loopback (reference), median",
    ms(percentile(httpSamples, 0.5)),
    "",
  ],
];
console.log(
  `broker: ${broker.embedded ? "embedded fauxqs (own process)" : broker.endpoint}; ` +
    `Deno ${Deno.version.deno}; ${navigator.hardwareConcurrency} cores; ` +
    `${SEQUENTIAL_CALLS} sequential calls, ${LOAD_CALLS} calls under load`,
);
console.log("\n| measure | value | target |\n|---|---|---|");
for (const [name, value, target] of rows) console.log(`| ${name} | ${value} | ${target} |`);

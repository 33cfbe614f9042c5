/**
 * The HTTP section of `deno task bench`: asyncmcp's webhook transports beside the SDK's own
 * Streamable HTTP, client and server in one process on loopback, calls sampled alternately.
 *
 * @module
 */

import { createExampleServer } from "../examples/example_server.ts";
import {
  Client,
  StreamableHTTPClientTransport,
  type Transport,
  WebStandardStreamableHTTPServerTransport,
} from "../sdk.ts";
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
import type { Progress, ProgressStep } from "./progress.ts";
import { ms, perSecond, type Report } from "./report.ts";
import { percentile } from "./stats.ts";

/** How much the HTTP section does. */
export interface HttpSectionOptions {
  /** Sequential calls per transport (after a warm-up). */
  calls: number;
  /** Warm-up calls before the sequential ones. */
  warmUp: number;
  /** Calls under load per transport (after a warm-up no larger). */
  loadCalls: number;
  /** Calls in flight under load. */
  inFlight: number;
  /** Clients the calls in flight are spread over. */
  clients: number;
}

async function connect(transport: Transport): Promise<Client> {
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(transport);
  return client;
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
async function httpLatency(
  targets: HttpTarget[],
  options: HttpSectionOptions,
  step: ProgressStep,
): Promise<number[][]> {
  const clients = await Promise.all(targets.map((target) => target.connect()));
  const samples = targets.map(() => [] as number[]);
  for (let i = 0; i < options.calls + options.warmUp; i++) {
    for (const [index, client] of clients.entries()) {
      const started = performance.now();
      await client.callTool({ name: "echo", arguments: { text: `call ${i}` } });
      if (i >= options.warmUp) samples[index].push(performance.now() - started);
      step.tick();
    }
  }
  await Promise.all(clients.map((client) => client.close()));
  return samples;
}

/** tools/calls per second with `inFlight` calls over `clients` clients. */
async function httpLoad(
  target: HttpTarget,
  options: HttpSectionOptions,
  step: ProgressStep,
): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: options.clients }, () => target.connect()),
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
      Array.from({ length: options.inFlight }, (_, i) => worker(clients[i % clients.length])),
    );
    return total / ((performance.now() - started) / 1000);
  };
  await run(Math.min(1000, options.loadCalls));
  const callsPerSecond = await run(options.loadCalls);
  await Promise.all(clients.map((client) => client.close()));
  return callsPerSecond;
}

/** Webhook and StreamableHTTP+Webhook beside the SDK's Streamable HTTP, all on loopback. */
export async function httpSection(
  progress: Progress,
  report: Report,
  options: HttpSectionOptions,
): Promise<void> {
  const httpTargets = [
    await webhookTarget(),
    hybridTarget(false),
    hybridTarget(true),
    streamableHttpTarget(),
  ];
  let step = progress.step(
    "HTTP: tools/calls over each transport, alternately",
    (options.calls + options.warmUp) * httpTargets.length,
  );
  const httpSamples = await httpLatency(httpTargets, options, step);
  step.done(
    httpTargets.map((target, i) => `${target.name} ${ms(percentile(httpSamples[i], 0.5))}`)
      .join(", "),
  );
  const httpThroughput: number[] = [];
  for (const target of httpTargets) {
    step = progress.step(
      `HTTP: load, ${target.name}`,
      Math.min(1000, options.loadCalls) + options.loadCalls,
    );
    httpThroughput.push(await httpLoad(target, options, step));
    step.done(perSecond(httpThroughput.at(-1)!));
  }
  for (const target of httpTargets) await target.close();
  const http = httpSamples.at(-1)!;
  report.line(
    `\nOver HTTP on loopback, client and server in one process, calls sampled alternately:`,
  );
  report.table(["measure", ...httpTargets.map((target) => target.name), "target"]);
  report.row(
    "tools/call, 1 client, median",
    httpSamples.map((samples) => ms(percentile(samples, 0.5))),
  );
  report.row(
    "tools/call, 1 client, p99",
    httpSamples.map((samples) => ms(percentile(samples, 0.99))),
  );
  report.row(
    "÷ SDK Streamable HTTP, median / p99",
    httpSamples.map((samples) =>
      `${(percentile(samples, 0.5) / percentile(http, 0.5)).toFixed(2)} / ${
        (percentile(samples, 0.99) / percentile(http, 0.99)).toFixed(2)
      }`
    ),
    "≤ 2 (webhook)",
  );
  report.row(
    `tools/call/s, ${options.inFlight} in flight over ${options.clients} clients`,
    httpThroughput.map((value) => `${Math.round(value)}`),
  );
}

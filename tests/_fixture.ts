/**
 * Shared test fixtures: a real broker per test (embedded fauxqs, or AWS_ENDPOINT_URL), queues with
 * unique names, the test MCP server, and a logger that records events.
 *
 * @module
 */

import { DeleteQueueCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { SNSClient } from "@aws-sdk/client-sns";
import { z } from "zod";
import { type Broker, startBroker } from "../examples/embedded_broker.ts";
import { ElicitRequestSchema, type JSONRPCMessage, McpServer, type Transport } from "../sdk.ts";
import { Client } from "../sdk.ts";
import type { LogFields, Logger, LogLevel } from "../session/logger.ts";
import { SqsClientTransport } from "../transports/sqs/sqs_client_transport.ts";
import { SqsServer, type SqsServerOptions } from "../transports/sqs/sqs_server.ts";

/** What a test gets from {@linkcode withBroker}. */
export interface BrokerContext {
  broker: Broker;
  sqs: SQSClient;
  sns: SNSClient;
  /** Creates a queue with a unique name (so runs against a shared LocalStack do not collide). */
  queue(name: string, attributes?: Record<string, string>): Promise<{ url: string; arn: string }>;
  /** A unique variant of `name` for topics and queues made by hand. */
  unique(name: string): string;
  /** Runs `fn` when the test ends (even when it fails), before the broker stops. */
  cleanup: Cleanup;
}

/** Tests register what must be undone when they end. */
export type Cleanup = (fn: () => void | Promise<void>) => void;

/**
 * Runs `fn` with a cleanup list that is emptied, last first, when it ends: every cleanup runs even
 * when `fn` or an earlier cleanup throws, so that one failure leaves nothing running for the next
 * test. The test's own failure is the one reported; cleanup failures are reported after it.
 */
export async function withCleanup(fn: (cleanup: Cleanup) => Promise<void>): Promise<void> {
  const cleanups: Array<() => void | Promise<void>> = [];
  let failure: { error: unknown } | undefined;
  try {
    await fn((cleanupFn) => void cleanups.push(cleanupFn));
  } catch (error) {
    failure = { error };
  }
  const cleanupErrors: unknown[] = [];
  for (const cleanupFn of cleanups.reverse()) {
    try {
      await cleanupFn();
    } catch (error) {
      cleanupErrors.push(error);
    }
  }
  if (failure) {
    for (const error of cleanupErrors) console.error("A cleanup failed too:", error);
    throw failure.error;
  }
  if (cleanupErrors.length === 1) throw cleanupErrors[0];
  if (cleanupErrors.length > 1) throw new AggregateError(cleanupErrors, "Cleanups failed");
}

/** Runs `fn` against a fresh broker, then removes what it created and stops the broker. */
export async function withBroker(fn: (context: BrokerContext) => Promise<void>): Promise<void> {
  const broker = await startBroker();
  await withCleanup(async (cleanup) => {
    cleanup(() => broker.close());
    const sqs = broker.sqsClient();
    const sns = broker.snsClient();
    cleanup(() => {
      sqs.destroy();
      sns.destroy();
    });
    const created: string[] = [];
    if (!broker.embedded) {
      cleanup(async () => {
        for (const url of created) {
          await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => {});
        }
      });
    }
    const run = crypto.randomUUID().slice(0, 8);
    const unique = (name: string) =>
      name.endsWith(".fifo") ? `${name.slice(0, -5)}-${run}.fifo` : `${name}-${run}`;
    await fn({
      broker,
      sqs,
      sns,
      unique,
      cleanup,
      async queue(name, attributes) {
        const queue = await broker.createQueue(sqs, unique(name), attributes);
        created.push(queue.url);
        return queue;
      },
    });
  });
}

/** The environment that points a child process's AWS clients at the test's broker. */
export function brokerEnv(context: Pick<BrokerContext, "broker">): Record<string, string> {
  const { broker } = context;
  // An external broker (LocalStack, AWS) takes this process's own AWS settings, credentials and
  // profile included.
  const ownAws = Object.entries(Deno.env.toObject()).filter(([key]) => key.startsWith("AWS_"));
  return {
    ...(broker.embedded
      ? { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" }
      : { ...Object.fromEntries(ownAws), HOME: Deno.env.get("HOME") ?? "" }),
    ...(broker.endpoint === "aws" ? {} : { AWS_ENDPOINT_URL: broker.endpoint }),
    AWS_REGION: broker.region,
  };
}

/** A logged event. */
export interface LoggedEvent {
  level: LogLevel;
  event: string;
  fields: LogFields;
}

/** A logger that keeps every event, for asserting on what a server said it did. */
export function recordingLogger(): Logger & { events: LoggedEvent[] } {
  const events: LoggedEvent[] = [];
  return {
    events,
    log(level, event, fields) {
      events.push({ level, event, fields });
    },
  };
}

/** Facts the test server records, so tests can see what happened inside it. */
export interface ServerProbe {
  /** Ids of `wait_for_cancel` calls that started. */
  started: string[];
  /** Ids of `wait_for_cancel` calls whose signal was aborted. */
  aborted: string[];
  /** How many times `count_runs` ran. */
  runs: number;
}

/** Options for {@linkcode createTestServer}. */
export interface TestServerOptions {
  probe?: ServerProbe;
  /** What the `work` tool does. @default answers "done" */
  work?: (signal: AbortSignal) => Promise<string>;
}

/** Creates a new empty probe. */
export function newProbe(): ServerProbe {
  return { started: [], aborted: [], runs: 0 };
}

/** The MCP server the end-to-end tests run: small tools that each exercise one behaviour. */
export function createTestServer(options: TestServerOptions = {}): McpServer {
  const probe = options.probe ?? newProbe();
  const server = new McpServer({ name: "asyncmcp-test", version: "1.0.0" });
  server.registerTool(
    "echo",
    { inputSchema: { text: z.string() } },
    ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  server.registerTool(
    "progress",
    { inputSchema: { steps: z.number().int() } },
    async ({ steps }, extra) => {
      for (let step = 1; step <= steps; step++) {
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken: extra._meta!.progressToken!, progress: step, total: steps },
        });
      }
      return { content: [{ type: "text", text: `${steps} steps` }] };
    },
  );
  server.registerTool(
    "wait_for_cancel",
    { inputSchema: { id: z.string() } },
    ({ id }, extra) =>
      new Promise((_, reject) => {
        probe.started.push(id);
        extra.signal.addEventListener("abort", () => {
          probe.aborted.push(id);
          reject(new Error("cancelled"));
        }, { once: true });
      }),
  );
  server.registerTool("fail", {}, () => {
    throw new Error("the tool failed on purpose");
  });
  server.registerTool("count_runs", {}, () => {
    probe.runs++;
    return { content: [{ type: "text", text: String(probe.runs) }] };
  });
  server.registerTool("work", {}, async (extra) => ({
    content: [{ type: "text", text: await (options.work?.(extra.signal) ?? "done") }],
  }));
  server.registerTool(
    "big",
    { inputSchema: { bytes: z.number().int() } },
    ({ bytes }) => ({ content: [{ type: "text", text: "x".repeat(bytes) }] }),
  );
  server.registerTool("ask_name", {}, async () => {
    const answer = await server.server.elicitInput({
      message: "What is your name?",
      requestedSchema: { type: "object", properties: { name: { type: "string" } } },
    });
    return { content: [{ type: "text", text: `hello ${answer.content?.name}` }] };
  });
  return server;
}

/** A `work` tool the test holds: it says when it starts, and finishes when the test lets it. */
export interface GatedWork {
  /** Pass as `work` to {@linkcode createTestServer}. */
  work: (signal: AbortSignal) => Promise<string>;
  /** Resolves when the tool first starts. */
  started: Promise<void>;
  /** How many times the tool started. */
  readonly runs: number;
  /** Lets every run finish with `text`. */
  finish(text?: string): void;
}

/** A `work` tool that waits for the test's {@linkcode GatedWork.finish}. */
export function gatedWork(): GatedWork {
  const started = Promise.withResolvers<void>();
  const finished = Promise.withResolvers<string>();
  let runs = 0;
  return {
    work: () => {
      runs++;
      started.resolve();
      return finished.promise;
    },
    started: started.promise,
    get runs() {
      return runs;
    },
    finish: (text = "done") => finished.resolve(text),
  };
}

/** A `work` implementation that never finishes on its own, only when its call is aborted. */
export function untilAborted(signal: AbortSignal): Promise<string> {
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
}

/** Connects `client`; on failure closes it (and waits for that) before rethrowing. */
export async function connectOrClose(client: Client, transport: Transport): Promise<void> {
  try {
    await client.connect(transport);
  } catch (error) {
    await client.close();
    throw error;
  }
}

/**
 * Starts an SQS server running the test MCP server, with a logger that records its events; it is
 * closed when the test ends, even when the test fails first.
 */
export async function startSqsServer(
  context: Pick<BrokerContext, "sqs" | "cleanup">,
  requestQueueUrl: string,
  options: Partial<SqsServerOptions> = {},
): Promise<{ server: SqsServer; events: LoggedEvent[] }> {
  const logger = recordingLogger();
  const server = new SqsServer({
    sqs: context.sqs,
    requestQueueUrl,
    createServer: () => createTestServer(),
    waitTimeSeconds: 1,
    logger,
    ...options,
  });
  context.cleanup(() => server.close());
  await server.start();
  return { server, events: logger.events };
}

/**
 * A request queue with the test server reading it, and a response queue, named after `prefix`;
 * the server is closed when the test ends.
 */
export async function sqsServerOnNewQueues(
  context: BrokerContext,
  prefix: string,
  options: Partial<SqsServerOptions> = {},
) {
  const requests = await context.queue(`${prefix}-requests`);
  const replies = await context.queue(`${prefix}-replies`);
  const { server } = await startSqsServer(context, requests.url, options);
  return { requests, replies, server };
}

/** Connects a test client over SQS, closed when the test ends. */
export async function connectSqsClient(
  context: BrokerContext,
  requestQueueUrl: string,
  responseQueueUrl: string,
  options: { name?: string; clientId?: string; sqs?: SQSClient; maxMessageBytes?: number } = {},
): Promise<{ client: Client; transport: SqsClientTransport }> {
  const client = createTestClient(options.name);
  const transport = new SqsClientTransport({
    sqs: options.sqs ?? context.sqs,
    requestQueueUrl,
    responseQueueUrl,
    clientId: options.clientId,
    maxMessageBytes: options.maxMessageBytes,
    waitTimeSeconds: 1,
    logger: recordingLogger(),
  });
  await connectOrClose(client, transport);
  context.cleanup(() => client.close());
  return { client, transport };
}

/** A client that can answer elicitation requests with `name`. */
export function createTestClient(name = "test-client", answerName = "Ada"): Client {
  const client = new Client({ name, version: "1.0.0" }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, () => ({
    action: "accept",
    content: { name: answerName },
  }));
  return client;
}

/** Resolves once `condition()` holds, checking every 10 ms; rejects after `timeoutMs`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Text of the first content item of a tool result. */
export function textOf(result: unknown): string {
  return (result as { content: Array<{ text: string }> }).content[0].text;
}

/** Narrows a JSON-RPC message for assertions. */
export function asRecord(message: JSONRPCMessage | unknown): Record<string, unknown> {
  return message as Record<string, unknown>;
}

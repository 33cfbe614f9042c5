import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { Client, McpError } from "../sdk.ts";
import { type BrokerContext, startSqsServer, textOf, withBroker } from "./_fixture.ts";

const CLI = new URL("../cli/main.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/**
 * The environment that points the CLI at the test's broker: the embedded broker's, or for an
 * external one (LocalStack, AWS) this process's own AWS settings, credentials and profile included.
 */
function brokerEnv(context: BrokerContext): Record<string, string> {
  const { broker } = context;
  const ownAws = Object.entries(Deno.env.toObject()).filter(([key]) => key.startsWith("AWS_"));
  return {
    ...(broker.embedded
      ? { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" }
      : { ...Object.fromEntries(ownAws), HOME: Deno.env.get("HOME") ?? "" }),
    ...(broker.endpoint === "aws" ? {} : { AWS_ENDPOINT_URL: broker.endpoint }),
    AWS_REGION: broker.region,
  };
}

/** The SDK's stdio client transport, starting `asyncmcp proxy --stdio` to an SQS server. */
function stdioProxy(
  context: BrokerContext,
  requestQueueUrl: string,
  responseQueueUrl: string,
  flags: string[] = [],
) {
  return new StdioClientTransport({
    command: Deno.execPath(),
    args: [
      "run",
      "--allow-all",
      "--config",
      CONFIG,
      CLI,
      "proxy",
      "--backend",
      "sqs",
      "--stdio",
      "--request-queue-url",
      requestQueueUrl,
      "--response-queue-url",
      responseQueueUrl,
      ...flags,
    ],
    env: { ...brokerEnv(context), PATH: Deno.env.get("PATH") ?? "" },
    stderr: "pipe",
  });
}

/** The SDK's StdioClientTransport.close() leaves a 2 s kill timer running: the sanitizer would blame us. */
function stdioKillTimersEnd(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 2100));
}

async function asyncmcp(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--config", CONFIG, CLI, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("CLI: every command has --help with examples, and exits 0", async () => {
  for (const args of [["--help"], ["proxy", "--help"], ["setup", "--help"]]) {
    const run = await asyncmcp(args);
    assert.equal(run.code, 0, args.join(" "));
    assert.match(run.stdout, /Usage: asyncmcp/);
  }
  assert.match((await asyncmcp(["proxy", "--help"])).stdout, /Examples:/);
  assert.match((await asyncmcp(["setup", "--help"])).stdout, /Examples:/);
});

Deno.test("CLI: a bad flag is one line on stderr and exit code 2", async () => {
  for (
    const [args, reason] of [
      [["proxy", "--backend", "carrier-pigeon"], /--backend must be one of/],
      [["proxy", "--backend", "sqs", "--port", "eighty"], /--port must be a whole number/],
      [["proxy", "--backend", "sqs", "--stdio", "--port", "1"], /pick one/],
      [["proxy", "--bogus"], /Unknown option '--bogus'/],
      [["frobnicate"], /unknown command 'frobnicate'/],
      [["setup"], /setup needs a transport/],
    ] as const
  ) {
    const run = await asyncmcp([...args]);
    assert.equal(run.code, 2, args.join(" "));
    assert.match(run.stderr, reason);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  }
});

Deno.test("CLI: a back end that cannot be reached is one line on stderr and exit code 1", async () => {
  const run = await asyncmcp([
    "proxy",
    "--backend",
    "sqs",
    "--stdio",
    "--request-queue-url",
    "http://127.0.0.1:9/000000000000/nowhere",
    "--response-queue-url",
    "http://127.0.0.1:9/000000000000/nowhere-either",
  ], {
    AWS_ENDPOINT_URL: "http://127.0.0.1:9",
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_MAX_ATTEMPTS: "1",
  });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /^asyncmcp: Cannot reach queue http:\/\/127\.0\.0\.1:9\//);
  assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
});

Deno.test("CLI: setup creates the queues once and finds them the second time", async () => {
  await withBroker(async (context) => {
    const prefix = context.unique("cli-setup");
    const first = await asyncmcp(["setup", "sqs", "--prefix", prefix], brokerEnv(context));
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, new RegExp(`✓ queue ${prefix}-requests`));
    const second = await asyncmcp(["setup", "sqs", "--prefix", prefix], brokerEnv(context));
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    assert.match(first.stdout, /^REQUEST_QUEUE_URL=\S+\nRESPONSE_QUEUE_URL=\S+\n$/);
  });
});

Deno.test("CLI: setup sns-sqs makes topics, queues and subscriptions", async () => {
  await withBroker(async (context) => {
    const prefix = context.unique("cli-sns");
    const run = await asyncmcp(["setup", "sns-sqs", "--prefix", prefix], brokerEnv(context));
    assert.equal(run.code, 0, run.stderr);
    for (
      const key of [
        "REQUEST_TOPIC_ARN",
        "REQUEST_QUEUE_URL",
        "RESPONSE_TOPIC_ARN",
        "RESPONSE_QUEUE_URL",
      ]
    ) {
      assert.match(run.stdout, new RegExp(`^${key}=\\S+$`, "m"));
    }
    assert.match(run.stderr, /✓ subscription/);
  });
});

Deno.test("CLI: the SDK Client over stdio reaches an SQS server through 'asyncmcp proxy --stdio'", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("cli-requests");
    const replies = await context.queue("cli-replies");
    const { server } = await startSqsServer(context.sqs, requests.url);
    context.cleanup(() => server.close());
    const client = new Client({ name: "stdio-client", version: "1.0.0" });
    await client.connect(stdioProxy(context, requests.url, replies.url));
    try {
      assert.equal(client.getServerVersion()?.name, "asyncmcp-test");
      const result = await client.callTool({ name: "echo", arguments: { text: "over stdio" } });
      assert.equal(textOf(result), "over stdio");
      const progress: number[] = [];
      await client.callTool({ name: "progress", arguments: { steps: 4 } }, undefined, {
        onprogress: ({ progress: step }) => void progress.push(step),
      });
      // A standard queue may deliver the last notification after the result (README: ordering).
      assert.ok(progress.length >= 1, "no progress notification arrived before the result");
      assert.deepEqual(progress, [1, 2, 3, 4].slice(0, progress.length));
    } finally {
      const closing = performance.now();
      await client.close();
      // The transport waits up to 2 s before it kills the process: the proxy left on its own at EOF.
      assert.ok(performance.now() - closing < 1500, "the proxy exits when stdin ends");
      await stdioKillTimersEnd();
    }
  });
});

Deno.test("CLI: with no server reading the queue, the stdio proxy answers initialize with an error naming it", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("cli-nobody");
    const replies = await context.queue("cli-replies");
    const transport = stdioProxy(context, requests.url, replies.url, [
      "--initialize-timeout-ms",
      "800",
    ]);
    const client = new Client({ name: "desktop-client", version: "1.0.0" });
    try {
      await assert.rejects(client.connect(transport), (error: unknown) => {
        assert.ok(error instanceof McpError);
        assert.match(error.message, /No answer to initialize in 800 ms/);
        assert.ok(error.message.includes(`is a server reading ${requests.url}?`), error.message);
        return true;
      });
    } finally {
      await client.close();
      await stdioKillTimersEnd();
    }
  });
});

Deno.test("CLI: a restarted stdio proxy gets its first answer at once, restart after restart", async () => {
  await withBroker(async (context) => {
    const requests = await context.queue("cli-requests");
    const replies = await context.queue("cli-replies");
    const { server } = await startSqsServer(context.sqs, requests.url);
    context.cleanup(() => server.close());
    const seconds: number[] = [];
    try {
      for (let run = 0; run < 3; run++) {
        const started = performance.now();
        const client = new Client({ name: "desktop-client", version: "1.0.0" });
        await client.connect(stdioProxy(context, requests.url, replies.url));
        seconds.push((performance.now() - started) / 1000);
        await client.close();
      }
    } finally {
      await stdioKillTimersEnd();
    }
    // About 0.4 s each, process start included; a reply hidden by the previous run's long poll
    // took 5.3 s.
    assert.ok(seconds.every((s) => s < 2.5), `seconds to the initialize result: ${seconds}`);
  });
});

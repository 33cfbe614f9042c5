import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { Client, McpError } from "../sdk.ts";
import {
  type BrokerContext,
  brokerEnv,
  sqsServerOnNewQueues,
  textOf,
  withBroker,
} from "./_fixture.ts";
import { initializeRequest } from "./_webhook_fixture.ts";
import { StdioClientTransport as StdioClientTransportV2 } from "@modelcontextprotocol/client/stdio";
import { createV2TestClient, createV2TestServer, newV2Probe } from "./_v2_fixture.ts";

const CLI = new URL("../cli/main.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** `deno run` arguments for `asyncmcp proxy --stdio` to an SQS server. */
function stdioProxyArgs(requestQueueUrl: string, responseQueueUrl: string, flags: string[] = []) {
  return [
    ...["run", "--allow-all", "--config", CONFIG, CLI],
    ...["proxy", "--backend", "sqs", "--stdio"],
    ...["--request-queue-url", requestQueueUrl, "--response-queue-url", responseQueueUrl],
    ...flags,
  ];
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
    args: stdioProxyArgs(requestQueueUrl, responseQueueUrl, flags),
    env: { ...brokerEnv(context), PATH: Deno.env.get("PATH") ?? "" },
    stderr: "pipe",
  });
}

/** The SDK's StdioClientTransport.close() leaves a 2 s kill timer running: the sanitizer would blame us. */
function stdioKillTimersEnd(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 2100));
}

/** An SQS back end on a port where nothing listens. */
const UNREACHABLE_SQS = [
  "proxy",
  "--backend",
  "sqs",
  "--request-queue-url",
  "http://127.0.0.1:9/000000000000/nowhere",
  "--response-queue-url",
  "http://127.0.0.1:9/000000000000/nowhere-either",
];
const UNREACHABLE_ENV = {
  AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  AWS_MAX_ATTEMPTS: "1",
};

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

Deno.test("CLI: --version prints the version in deno.json and exits 0", async () => {
  const { version } = JSON.parse(await Deno.readTextFile(CONFIG));
  for (const flag of ["--version", "-V"]) {
    const run = await asyncmcp([flag]);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, `asyncmcp ${version}\n`);
  }
});

Deno.test("CLI: a short token in ASYNCMCP_PROXY_TOKEN is a usage error too, exit code 2", async () => {
  const run = await asyncmcp(UNREACHABLE_SQS, {
    ...UNREACHABLE_ENV,
    ASYNCMCP_PROXY_TOKEN: "short",
  });
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /--token must be at least 16 characters: got 5/);
});

Deno.test("CLI: an address already in use is named, for the proxy's port and the webhook receiver's", async () => {
  const taken = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response());
  try {
    const { port } = taken.addr;
    const webhook = ["proxy", "--backend", "webhook", "--server-url", "http://127.0.0.1:9/mcp"];
    for (
      const [args, flag] of [
        [[...webhook, "--port", String(port)], "--port"],
        [[...webhook, "--webhook-port", String(port), "--stdio"], "--webhook-port"],
      ] as const
    ) {
      const run = await asyncmcp([...args]);
      assert.equal(run.code, 1, run.stderr);
      assert.equal(
        run.stderr.trim(),
        `asyncmcp: Cannot listen on 127.0.0.1:${port} as the address is already in use: stop what listens there or pick another ${flag}`,
      );
    }
  } finally {
    await taken.shutdown();
  }
});

Deno.test("CLI: a bad flag is one line on stderr and exit code 2", async () => {
  for (
    const [args, reason] of [
      [["proxy", "--backend", "carrier-pigeon"], /--backend must be one of/],
      [["proxy", "--backend", "sqs", "--port", "eighty"], /--port must be a whole number/],
      [["proxy", "--backend", "sqs", "--stdio", "--port", "1"], /pick one/],
      [["proxy", "--bogus"], /Unknown option '--bogus'/],
      [["proxy", "--prot", "3000"], /Unknown option '--prot': did you mean '--port'\?/],
      [["frobnicate"], /unknown command 'frobnicate': use 'proxy', 'setup'/],
      [["proxi"], /unknown command 'proxi': did you mean 'proxy'\?/],
      [["setup"], /setup needs a transport/],
      [["setup", "sqs", "extra"], /unexpected argument 'extra'/],
      [["proxy", "--backend", "sqs", "--stdio", "extra"], /unexpected argument 'extra'/],
      [
        ["proxy", "--backend", "sqs", "--port", "70000"],
        /--port must be a whole number from 0 to 65535: got '70000'/,
      ],
      [["proxy", "--backend", "sqs", "--port", ""], /--port must be a whole number/],
      [
        ["proxy", "--backend", "sqs", "--max-sessions", "0"],
        /--max-sessions must be a whole number of at least 1/,
      ],
      [
        ["proxy", "--backend", "sqs", "--webhook-port", "1e9"],
        /--webhook-port must be a whole number/,
      ],
      // Before the back end is opened: these queues cannot be reached, which would be exit code 1.
      [
        [...UNREACHABLE_SQS, "--token", "too-short"],
        /--token must be at least 16 characters: got 9/,
      ],
    ] as const
  ) {
    const run = await asyncmcp([...args], UNREACHABLE_ENV);
    assert.equal(run.code, 2, args.join(" "));
    assert.match(run.stderr, reason);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  }
});

Deno.test("CLI: a back end that cannot be reached is one line on stderr and exit code 1", async () => {
  const run = await asyncmcp([...UNREACHABLE_SQS, "--stdio"], UNREACHABLE_ENV);
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
    const { requests, replies } = await sqsServerOnNewQueues(context, "cli");
    const client = new Client({ name: "stdio-client", version: "1.0.0" });
    const transport = stdioProxy(context, requests.url, replies.url);
    await client.connect(transport);
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
      // What close() does first, done here: the SDK's close() would then leave a 2 s timer of its
      // own running, which the test sanitizer reports. Once the process has ended by itself,
      // close() has nothing left to do.
      const exited = Promise.withResolvers<void>();
      const onclose = transport.onclose;
      transport.onclose = () => {
        onclose?.();
        exited.resolve();
      };
      const child = (transport as unknown as { _process?: { stdin?: { end(): void } } })._process;
      child?.stdin?.end();
      const deadline = setTimeout(() => exited.reject(new Error("the proxy kept running")), 1500);
      try {
        await exited.promise;
      } finally {
        clearTimeout(deadline);
        await client.close();
      }
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

Deno.test("CLI: SIGTERM ends the stdio proxy as end of input does, with exit code 0", async () => {
  await withBroker(async (context) => {
    const { requests, replies } = await sqsServerOnNewQueues(context, "cli");
    const child = new Deno.Command(Deno.execPath(), {
      args: stdioProxyArgs(requests.url, replies.url),
      env: brokerEnv(context),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(initializeRequest()) + "\n"));
    let answer = "";
    while (!answer.includes("\n")) {
      const { value, done } = await stdout.read();
      if (done) assert.fail(`the proxy ended early: ${await stderr}`);
      answer += value;
    }
    assert.equal(JSON.parse(answer).result.serverInfo.name, "asyncmcp-test");
    child.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      child.status,
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(new Error("the proxy did not end within 5 s of SIGTERM"));
        }, 5000)
      ),
    ]).finally(() => clearTimeout(timer));
    await stdout.cancel();
    await writer.close().catch(() => {});
    // Killed by the signal, it would report no code but the signal (143 in a shell).
    assert.equal(status.signal, null);
    assert.equal(status.code, 0, await stderr);
  });
});

Deno.test("CLI: a restarted stdio proxy gets its first answer at once, restart after restart", async () => {
  await withBroker(async (context) => {
    const { requests, replies } = await sqsServerOnNewQueues(context, "cli");
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

Deno.test("CLI: an SDK v2 client over stdio settles on 2026-07-28 through 'asyncmcp proxy --stdio'", async () => {
  await withBroker(async (context) => {
    const { requests, replies } = await sqsServerOnNewQueues(context, "cli", {
      createServer: (serverContext) => createV2TestServer(newV2Probe(), serverContext),
    });
    const client = createV2TestClient();
    await client.connect(
      new StdioClientTransportV2({
        command: Deno.execPath(),
        args: stdioProxyArgs(requests.url, replies.url),
        env: { ...brokerEnv(context), PATH: Deno.env.get("PATH") ?? "" },
        stderr: "pipe",
      }),
    );
    try {
      assert.equal(client.getNegotiatedProtocolVersion(), "2026-07-28");
      const result = await client.callTool({ name: "echo", arguments: { text: "stateless" } });
      assert.equal(textOf(result), "stateless");
    } finally {
      await client.close();
      await stdioKillTimersEnd();
    }
  });
});

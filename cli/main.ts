/**
 * `asyncmcp`: the command line. `proxy` lets standard MCP clients (stdio or Streamable HTTP) use a
 * server behind SQS, SNS+SQS, webhooks or Streamable HTTP + webhook; `setup` creates the queues
 * and topics a transport needs.
 *
 * ```sh
 * deno task asyncmcp proxy --help
 * deno run -A jsr:@asyncmcp/asyncmcp/cli setup sqs --prefix my-mcp
 * ```
 *
 * Exit codes: 0 done, 1 failed (an endpoint cannot be reached, ...), 2 bad command line.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { StreamableHttpProxy } from "../proxy/http_proxy.ts";
import { serveStdio } from "../proxy/stdio_proxy.ts";
import { consoleLogger, type LogLevel } from "../session/logger.ts";
import { type BackendName, BACKENDS, openBackend } from "./backend.ts";
import { setup } from "./setup.ts";
import { UsageError } from "./usage_error.ts";

const MAIN_HELP = `asyncmcp: MCP over queues and webhooks

Usage: asyncmcp <command> [flags]

Commands:
  proxy   Serve a server that sits behind an async transport to stdio or Streamable HTTP clients
  setup   Create the queues and topics a transport needs (idempotent)

Run 'asyncmcp <command> --help' for a command's flags and examples.
`;

const PROXY_HELP = `asyncmcp proxy: standard MCP clients reach a server behind an async transport

Usage: asyncmcp proxy --backend <${BACKENDS.join("|")}> [--stdio | --port N] [flags]

Front end (one of):
  --stdio                     One session on this process's stdin/stdout (desktop clients)
  --host H --port N           Streamable HTTP at http://H:N/mcp, and /health (default 127.0.0.1:3000)

Back end:
  --backend NAME              ${BACKENDS.join(", ")}
  --request-queue-url URL     sqs: the server's request queue         (or REQUEST_QUEUE_URL)
  --response-queue-url URL    sqs, sns-sqs: the proxy's reply queue   (or RESPONSE_QUEUE_URL)
  --request-topic-arn ARN     sns-sqs: the request topic              (or REQUEST_TOPIC_ARN)
  --response-topic-arn ARN    sns-sqs: the reply topic                (or RESPONSE_TOPIC_ARN)
  --server-url URL            webhook, streamable-http-webhook        (or SERVER_URL)
  --webhook-host H, --webhook-port N   where the proxy's webhook receiver listens (127.0.0.1:0)
  --webhook-url URL           the receiver's public URL, when not the address it listens on
  --webhook-secret S          verify deliveries with this secret      (or WEBHOOK_SECRET)

HTTP front end:
  --token T                   require Authorization: Bearer T        (or ASYNCMCP_PROXY_TOKEN)
  --cors-origin O             allow browsers on origin O (repeat, or '*')
  --allowed-host H            answer to Host H besides the loopback names (repeat, or '*')
  --max-sessions N            refuse initialize beyond N sessions (10000)
  --idle-timeout-ms N         end a session idle this long (1800000)

Both:
  --request-timeout-ms N      answer a request the back end leaves unanswered with an error (300000)
  --initialize-timeout-ms N   the same for initialize, which a server answers at once (30000); a
                              warning names the request queue after 5 s without an answer
  --log-level L               debug, info, warn (default), error; logs go to stderr

AWS settings come from the environment: AWS_ENDPOINT_URL (LocalStack), AWS_REGION, credentials.

Examples:
  asyncmcp proxy --backend sqs --stdio \\
    --request-queue-url http://localhost:4566/000000000000/mcp-requests \\
    --response-queue-url http://localhost:4566/000000000000/mcp-responses
  asyncmcp proxy --backend webhook --server-url https://mcp.example.com/mcp/request --port 3000
`;

const SETUP_HELP = `asyncmcp setup: create the queues and topics of a transport

Usage: asyncmcp setup <sqs|sns-sqs> [--prefix NAME]

Creates what is missing and finds what exists, so running it twice changes nothing. Prints each
step on stderr and the addresses as KEY=value lines on stdout, ready for an .env file.

  --prefix NAME   the start of every name (default mcp)
  sqs             NAME-requests, NAME-responses queues
  sns-sqs         NAME-requests, NAME-responses topics; NAME-server, NAME-client queues, each
                  subscribed to its topic with the queue policy that lets the topic send to it

Examples:
  AWS_ENDPOINT_URL=http://localhost:4566 asyncmcp setup sqs
  asyncmcp setup sns-sqs --prefix billing-mcp > .env
`;

/** Parses a whole positive number flag. */
function count(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    throw new UsageError(`--${flag} must be a whole number: got '${value}'`);
  }
  return number;
}

type FlagOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;

function parse(args: string[], options: FlagOptions) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify.*$/s, ""));
  }
}

async function proxyCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    help: { type: "boolean", short: "h" },
    stdio: { type: "boolean" },
    host: { type: "string" },
    port: { type: "string" },
    backend: { type: "string" },
    "request-queue-url": { type: "string" },
    "response-queue-url": { type: "string" },
    "request-topic-arn": { type: "string" },
    "response-topic-arn": { type: "string" },
    "server-url": { type: "string" },
    "webhook-host": { type: "string" },
    "webhook-port": { type: "string" },
    "webhook-url": { type: "string" },
    "webhook-secret": { type: "string" },
    token: { type: "string" },
    "cors-origin": { type: "string", multiple: true },
    "allowed-host": { type: "string", multiple: true },
    "max-sessions": { type: "string" },
    "idle-timeout-ms": { type: "string" },
    "request-timeout-ms": { type: "string" },
    "initialize-timeout-ms": { type: "string" },
    "log-level": { type: "string" },
  });
  if (values.help) {
    console.log(PROXY_HELP);
    return 0;
  }
  const backendName = values.backend as string | undefined;
  if (!backendName || !BACKENDS.includes(backendName as BackendName)) {
    throw new UsageError(`--backend must be one of ${BACKENDS.join(", ")}`);
  }
  if (values.stdio && (values.port !== undefined || values.host !== undefined)) {
    throw new UsageError("--stdio and --port/--host are two front ends: pick one");
  }
  const level = (values["log-level"] as string | undefined) ?? "warn";
  if (!["debug", "info", "warn", "error"].includes(level)) {
    throw new UsageError(`--log-level must be debug, info, warn or error: got '${level}'`);
  }
  const logger = consoleLogger({ level: level as LogLevel });
  const waits = {
    requestTimeoutMs: count(values["request-timeout-ms"] as string, "request-timeout-ms"),
    initializeTimeoutMs: count(values["initialize-timeout-ms"] as string, "initialize-timeout-ms"),
  };
  const port = count(values.port as string, "port") ?? 3000;
  const backend = await openBackend({
    backend: backendName as BackendName,
    requestQueueUrl: values["request-queue-url"] as string,
    responseQueueUrl: values["response-queue-url"] as string,
    requestTopicArn: values["request-topic-arn"] as string,
    responseTopicArn: values["response-topic-arn"] as string,
    serverUrl: values["server-url"] as string,
    webhookHost: values["webhook-host"] as string,
    webhookPort: count(values["webhook-port"] as string, "webhook-port"),
    webhookUrl: values["webhook-url"] as string,
    webhookSecret: values["webhook-secret"] as string,
  }, logger);
  if (values.stdio) {
    try {
      await serveStdio(backend.make(), { ...waits, server: backend.address, logger });
    } finally {
      await backend.close();
    }
    return 0;
  }
  const allowedHosts = values["allowed-host"] as string[] | undefined;
  const corsOrigins = values["cors-origin"] as string[] | undefined;
  const proxy = new StreamableHttpProxy({
    backend: () => backend.make(),
    logger,
    ...waits,
    server: backend.address,
    bearerToken: (values.token as string | undefined) ?? Deno.env.get("ASYNCMCP_PROXY_TOKEN"),
    corsOrigins: corsOrigins?.includes("*") ? "*" : corsOrigins,
    allowedHosts: allowedHosts?.includes("*")
      ? "*"
      : allowedHosts && ["localhost", "127.0.0.1", "[::1]", ...allowedHosts],
    maxSessions: count(values["max-sessions"] as string, "max-sessions"),
    idleTimeoutMs: count(values["idle-timeout-ms"] as string, "idle-timeout-ms"),
  });
  const hostname = (values.host as string | undefined) ?? "127.0.0.1";
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const http = Deno.serve({ hostname, port, onListen: resolve }, proxy.fetch);
  const address = await listening;
  console.error(
    `asyncmcp proxy: http://${address.hostname}:${address.port}/mcp → ${backend.describe}`,
  );
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, stop);
  await stopped;
  await proxy.close();
  await http.shutdown();
  await backend.close();
  return 0;
}

async function setupCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    help: { type: "boolean", short: "h" },
    prefix: { type: "string" },
  });
  if (values.help) {
    console.log(SETUP_HELP);
    return 0;
  }
  const [transport] = positionals;
  if (transport !== "sqs" && transport !== "sns-sqs") {
    throw new UsageError(
      "setup needs a transport: 'asyncmcp setup sqs' or 'asyncmcp setup sns-sqs'",
    );
  }
  const prefix = (values.prefix as string | undefined) ?? "mcp";
  if (!/^[A-Za-z0-9_-]{1,60}$/.test(prefix)) {
    throw new UsageError(
      `--prefix may hold letters, digits, '-' and '_' (at most 60): got '${prefix}'`,
    );
  }
  const result = await setup({ transport, prefix }, (step, done) => {
    console.error(done ? `  ✓ ${step}` : `  … ${step}`);
  });
  for (const [key, value] of Object.entries(result)) console.log(`${key}=${value}`);
  return 0;
}

/**
 * Runs the command line `args`; resolves with the exit code. Errors end as one line on stderr.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await main(["setup", "sqs", "--prefix", "demo"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      console.log(MAIN_HELP);
      return command === undefined ? 2 : 0;
    }
    if (command === "proxy") return await proxyCommand(rest);
    if (command === "setup") return await setupCommand(rest);
    throw new UsageError(`unknown command '${command}': use proxy or setup`);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`asyncmcp: ${error.message} (see 'asyncmcp ${command ?? ""} --help')`);
      return 2;
    }
    console.error(`asyncmcp: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) {
  // Deno 2.9 keeps an aborted long poll's connection open for about 90 s (README: Shutdown).
  Deno.exit(await main(Deno.args));
}

/**
 * `asyncmcp proxy`: its flags, checked before anything is opened, and the two front ends.
 *
 * @module
 */

import { StreamableHttpProxy } from "../proxy/http_proxy.ts";
import type { ProxyWaitOptions } from "../proxy/proxy_session.ts";
import { serveStdio } from "../proxy/stdio_proxy.ts";
import { consoleLogger, type Logger, type LogLevel } from "../session/logger.ts";
import {
  type Backend,
  type BackendFlags,
  type BackendName,
  BACKENDS,
  openBackend,
} from "./backend.ts";
import { type ParsedFlags, parseFlags, wholeNumber } from "./flags.ts";
import { listenError } from "./listen_error.ts";
import { UsageError } from "./usage_error.ts";

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
  --token T                   require Authorization: Bearer T, at least 16 characters
                              (or ASYNCMCP_PROXY_TOKEN)
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

const FLAGS = {
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
} as const;

const LOG_LEVELS: readonly string[] = ["debug", "info", "warn", "error"];
const MAX_PORT = 65_535;
const MIN_TOKEN_LENGTH = 16;

/** The HTTP front end's settings, read from the flags. */
interface HttpFront {
  hostname: string;
  port: number;
  bearerToken?: string;
  corsOrigins?: string[] | "*";
  allowedHosts?: string[] | "*";
  maxSessions?: number;
  idleTimeoutMs?: number;
}

/** Every flag of the command, checked: nothing is opened before the whole line is known good. */
interface ProxyFlags {
  backend: BackendFlags;
  waits: ProxyWaitOptions;
  logger: Logger;
  /** Absent for --stdio. */
  http?: HttpFront;
}

/**
 * Runs `asyncmcp proxy` with the arguments after the command name until the client goes away
 * (stdio) or a signal stops it (HTTP); resolves with the exit code.
 *
 * @throws {UsageError} for a bad command line, before anything is opened.
 * @throws {Error} when the back end cannot be reached or the address is taken.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await proxyCommand(["--backend", "webhook", "--server-url", "http://127.0.0.1:8000/mcp/request"]));
 * ```
 */
export async function proxyCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, FLAGS, 0);
  if (values.help) {
    console.log(PROXY_HELP);
    return 0;
  }
  const flags = readFlags(values);
  const backend = await openBackend(flags.backend, flags.logger);
  try {
    if (!flags.http) {
      // A client that signals rather than closing stdin gets the same clean end: the reply
      // channel's long poll is woken, not left to take the next process's first reply.
      using stop = onStopSignal();
      await serveStdio(backend.make(), {
        ...flags.waits,
        server: backend.address,
        logger: flags.logger,
        signal: stop.signal,
      });
      return 0;
    }
    return await serveHttp(flags.http, flags, backend);
  } finally {
    await backend.close();
  }
}

function readFlags(values: ParsedFlags["values"]): ProxyFlags {
  const text = (name: keyof typeof FLAGS) => values[name] as string | undefined;
  const list = (name: keyof typeof FLAGS) => values[name] as string[] | undefined;
  const backendName = text("backend");
  if (!backendName || !BACKENDS.includes(backendName as BackendName)) {
    throw new UsageError(`--backend must be one of ${BACKENDS.join(", ")}`);
  }
  if (values.stdio && (text("port") !== undefined || text("host") !== undefined)) {
    throw new UsageError("--stdio and --port/--host are two front ends: pick one");
  }
  const level = text("log-level") ?? "warn";
  if (!LOG_LEVELS.includes(level)) {
    throw new UsageError(`--log-level must be debug, info, warn or error: got '${level}'`);
  }
  const flags: ProxyFlags = {
    backend: {
      backend: backendName as BackendName,
      requestQueueUrl: text("request-queue-url"),
      responseQueueUrl: text("response-queue-url"),
      requestTopicArn: text("request-topic-arn"),
      responseTopicArn: text("response-topic-arn"),
      serverUrl: text("server-url"),
      webhookHost: text("webhook-host"),
      webhookPort: wholeNumber(text("webhook-port"), "webhook-port", 0, MAX_PORT),
      webhookUrl: text("webhook-url"),
      webhookSecret: text("webhook-secret"),
    },
    waits: {
      requestTimeoutMs: wholeNumber(text("request-timeout-ms"), "request-timeout-ms", 1),
      initializeTimeoutMs: wholeNumber(text("initialize-timeout-ms"), "initialize-timeout-ms", 1),
    },
    logger: consoleLogger({ level: level as LogLevel }),
  };
  if (values.stdio) return flags;
  const token = text("token") ?? Deno.env.get("ASYNCMCP_PROXY_TOKEN");
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new UsageError(
      `--token must be at least ${MIN_TOKEN_LENGTH} characters: got ${token.length} (use a long random token)`,
    );
  }
  const corsOrigins = list("cors-origin");
  const allowedHosts = list("allowed-host");
  flags.http = {
    hostname: text("host") ?? "127.0.0.1",
    port: wholeNumber(text("port"), "port", 0, MAX_PORT) ?? 3000,
    bearerToken: token,
    corsOrigins: corsOrigins?.includes("*") ? "*" : corsOrigins,
    allowedHosts: allowedHosts?.includes("*")
      ? "*"
      : allowedHosts && ["localhost", "127.0.0.1", "[::1]", ...allowedHosts],
    maxSessions: wholeNumber(text("max-sessions"), "max-sessions", 1),
    idleTimeoutMs: wholeNumber(text("idle-timeout-ms"), "idle-timeout-ms", 1),
  };
  return flags;
}

/** Aborts on SIGINT or SIGTERM until disposed. */
function onStopSignal(): { signal: AbortSignal } & Disposable {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const name of signals) Deno.addSignalListener(name, abort);
  return {
    signal: controller.signal,
    [Symbol.dispose]: () => signals.forEach((name) => Deno.removeSignalListener(name, abort)),
  };
}

async function serveHttp(front: HttpFront, flags: ProxyFlags, backend: Backend): Promise<number> {
  const { hostname, port, ...options } = front;
  const proxy = new StreamableHttpProxy({
    ...options,
    ...flags.waits,
    backend: () => backend.make(),
    server: backend.address,
    logger: flags.logger,
  });
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  let http: Deno.HttpServer;
  try {
    http = Deno.serve({ hostname, port, onListen: resolve }, proxy.fetch);
  } catch (error) {
    throw listenError(error, hostname, port, "--port");
  }
  const address = await listening;
  console.error(
    `asyncmcp proxy: http://${address.hostname}:${address.port}/mcp → ${backend.describe}`,
  );
  using stop = onStopSignal();
  await new Promise((resolve) => stop.signal.addEventListener("abort", resolve, { once: true }));
  await proxy.close();
  await http.shutdown();
  return 0;
}

/**
 * The MCP Inspector's CLI, a client we did not write, reaches a server behind SQS through both
 * proxy front ends, in both eras, as the README's commands show. It runs on Node through `npx`
 * (under Deno one of its optional packages cannot be resolved); without npm these tests are
 * ignored with a warning, as the Node tests are.
 */

import assert from "node:assert/strict";
import { StreamableHttpProxy } from "../proxy/http_proxy.ts";
import { silentLogger } from "../session/logger.ts";
import { SqsClientTransport } from "../transports/sqs/sqs_client_transport.ts";
import { type BrokerContext, brokerEnv, startSqsServer, withBroker } from "./_fixture.ts";
import { npmUnavailable } from "./_node_package.ts";
import { createV2TestServer, newV2Probe } from "./_v2_fixture.ts";
import { serveOnLoopback } from "./_webhook_fixture.ts";

const INSPECTOR = "@modelcontextprotocol/inspector@2.12.0";
const CLI = new URL("../cli/main.ts", import.meta.url).pathname;
const unavailable = await npmUnavailable();
if (unavailable) console.warn(`Skipping the MCP Inspector tests: ${unavailable}`);

/** Runs the Inspector's CLI with `args`; its standard output parsed as JSON, or throws. */
async function inspector(args: string[]): Promise<Record<string, unknown>> {
  const output = await new Deno.Command("npx", {
    args: ["-y", INSPECTOR, "--cli", ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    // The first run downloads the Inspector (over 100 MB installed) on a fresh machine.
    signal: AbortSignal.timeout(600_000),
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `the Inspector failed:\n${stdout}\n${stderr}`);
  return JSON.parse(stdout);
}

/** An SQS server on SDK v2 (both eras) and the queues a client needs. */
async function sqsBackEnd(context: BrokerContext) {
  const requests = await context.queue("inspector-requests");
  const replies = await context.queue("inspector-replies");
  const probe = newV2Probe();
  await startSqsServer(context, requests.url, {
    createServer: (serverContext) => createV2TestServer(probe, serverContext),
  });
  return { requests, replies, probe };
}

/** The HTTP proxy in front of the SQS back end, on loopback. */
async function httpProxy(context: BrokerContext) {
  const { requests, replies, probe } = await sqsBackEnd(context);
  const proxy = new StreamableHttpProxy({
    backend: () =>
      new SqsClientTransport({
        sqs: context.sqs,
        requestQueueUrl: requests.url,
        responseQueueUrl: replies.url,
        waitTimeSeconds: 1,
        logger: silentLogger,
      }),
    logger: silentLogger,
  });
  const { url } = await serveOnLoopback(context.cleanup, proxy.fetch);
  context.cleanup(() => proxy.close());
  return { url, proxy, probe };
}

const echoCall = ["--method", "tools/call", "--tool-name", "echo", "--tool-arg", "text=hello"];

function textOf(result: Record<string, unknown>): string | undefined {
  return (result.content as Array<{ text?: string }> | undefined)?.[0]?.text;
}

Deno.test({
  name: "MCP Inspector: its CLI lists the tools of a server behind SQS through the HTTP proxy",
  ignore: unavailable !== undefined,
  async fn() {
    await withBroker(async (context) => {
      const { url, probe } = await httpProxy(context);
      const listed = await inspector([`${url}/mcp`, "--method", "tools/list"]);
      const names = (listed.tools as Array<{ name: string }>).map((tool) => tool.name);
      assert.ok(names.includes("echo"), JSON.stringify(listed));
      assert.deepEqual(probe.eras, ["legacy"]);
    });
  },
});

Deno.test({
  name:
    "MCP Inspector: its CLI calls a tool in the 2026-07-28 era through the HTTP proxy, which keeps no session for it",
  ignore: unavailable !== undefined,
  async fn() {
    await withBroker(async (context) => {
      const { url, proxy, probe } = await httpProxy(context);
      const result = await inspector([`${url}/mcp`, "--protocol-era", "auto", ...echoCall]);
      assert.equal(textOf(result), "hello", JSON.stringify(result));
      assert.equal(proxy.sessionCount, 0);
      assert.ok(probe.eras.length > 0 && probe.eras.every((era) => era === "modern"));
    });
  },
});

Deno.test({
  name:
    "MCP Inspector: its CLI calls a tool through the stdio proxy it starts itself, in both eras",
  ignore: unavailable !== undefined,
  async fn() {
    await withBroker(async (context) => {
      const { requests, replies, probe } = await sqsBackEnd(context);
      const env = Object.entries(brokerEnv(context)).flatMap(([key, value]) => [
        "-e",
        `${key}=${value}`,
      ]);
      const proxyCommand = [
        Deno.execPath(),
        "run",
        "-A",
        CLI,
        "proxy",
        "--backend",
        "sqs",
        "--stdio",
        "--request-queue-url",
        requests.url,
        "--response-queue-url",
        replies.url,
      ];
      const eras: Array<[string, string[]]> = [["legacy", []], ["modern", [
        "--protocol-era",
        "auto",
      ]]];
      for (const [era, args] of eras) {
        probe.eras.length = 0;
        const result = await inspector([...env, ...proxyCommand, ...args, ...echoCall]);
        assert.equal(textOf(result), "hello", JSON.stringify(result));
        assert.ok(probe.eras.length > 0 && probe.eras.every((seen) => seen === era), era);
      }
    });
  },
});

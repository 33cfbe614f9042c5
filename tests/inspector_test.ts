/**
 * The MCP Inspector's CLI, a client we did not write, reaches a server behind SQS through both
 * proxy front ends, in both eras, as the README's commands show. It runs on Node through `npx`
 * (under Deno one of its optional packages cannot be resolved); without npm these tests are
 * ignored with a warning, as the Node tests are.
 */

import assert from "node:assert/strict";
import { serveProxy, startBackEnd } from "./_conformance_back_ends.ts";
import { type BrokerContext, brokerEnv, withBroker } from "./_fixture.ts";
import { npmUnavailable } from "./_node_package.ts";
import { createV2TestServer, newV2Probe } from "./_v2_fixture.ts";

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

/** An SQS server on SDK v2 (both eras) behind the HTTP proxy on loopback. */
async function sqsBackEnd(context: BrokerContext) {
  const probe = newV2Probe();
  const backEnd = await startBackEnd(context, "SQS", {
    createServer: (serverContext) => createV2TestServer(probe, serverContext),
  });
  const { url, proxy } = await serveProxy(context, backEnd);
  return { url, proxy, probe, queues: backEnd.queues! };
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
      const { url, probe } = await sqsBackEnd(context);
      const listed = await inspector([url, "--method", "tools/list"]);
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
      const { url, proxy, probe } = await sqsBackEnd(context);
      const result = await inspector([url, "--protocol-era", "auto", ...echoCall]);
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
      const { queues, probe } = await sqsBackEnd(context);
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
        queues.requestQueueUrl,
        "--response-queue-url",
        queues.responseQueueUrl,
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

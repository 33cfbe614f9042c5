import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
// @ts-types="@modelcontextprotocol/sdk/server/stdio"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { ProxySession } from "../proxy/proxy_session.ts";
import { serveStdio } from "../proxy/stdio_proxy.ts";
import type { JSONRPCMessage, Transport } from "../sdk.ts";
import { recordingLogger } from "./_fixture.ts";

/** Counts the calls of `transport.close()`, the wrapper the issue measured 2,000-3,600 with. */
function countCloses<T extends Transport>(transport: T): { transport: T; closes: () => number } {
  let count = 0;
  const close = transport.close.bind(transport);
  transport.close = () => {
    count++;
    return close();
  };
  return { transport, closes: () => count };
}

/** A back end that, like the SDK's stdio transport, fires onclose on every close() call. */
class BareTransport implements Transport {
  onclose?: () => void;
  onmessage?: (message: JSONRPCMessage) => void;
  start(): Promise<void> {
    return Promise.resolve();
  }
  send(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.onclose?.();
    return Promise.resolve();
  }
}

/** The SDK's stdio server transport on in-memory streams, and a back end. */
function stdioSession() {
  const front = countCloses(new StdioServerTransport(new PassThrough(), new PassThrough()));
  const back = countCloses(new BareTransport());
  const session = new ProxySession(front.transport, back.transport, {
    logger: recordingLogger(),
  });
  return { session, front, back };
}

for (
  const [who, begin] of [
    ["the proxy session", (s: ReturnType<typeof stdioSession>) => s.session.close()],
    ["the stdio front end", (s: ReturnType<typeof stdioSession>) => s.front.transport.close()],
    ["the back end", (s: ReturnType<typeof stdioSession>) => s.back.transport.close()],
  ] as const
) {
  Deno.test(`ProxySession: when ${who} closes, each side's close() runs once over the SDK's stdio transport`, async () => {
    const stdio = stdioSession();
    await stdio.session.start();
    await begin(stdio);
    await stdio.session.closed;
    // A second close, and one from inside onclose, are no-ops.
    await stdio.session.close();
    assert.equal(stdio.front.closes(), 1, "front close() calls");
    assert.equal(stdio.back.closes(), 1, "back close() calls");
  });
}

Deno.test("serveStdio: end of input ends the session, closing the back end once", async () => {
  const stdin = new PassThrough();
  const back = countCloses(new BareTransport());
  const serving = serveStdio(back.transport, {
    stdin,
    stdout: new PassThrough(),
    logger: recordingLogger(),
  });
  await new Promise((resolve) => setTimeout(resolve, 10));
  stdin.end();
  await serving;
  assert.equal(back.closes(), 1);
});

Deno.test("serveStdio: aborting its signal ends the session as end of input does", async () => {
  const back = countCloses(new BareTransport());
  const stop = new AbortController();
  const serving = serveStdio(back.transport, {
    stdin: new PassThrough(),
    stdout: new PassThrough(),
    logger: recordingLogger(),
    signal: stop.signal,
  });
  await new Promise((resolve) => setTimeout(resolve, 10));
  stop.abort();
  await serving;
  assert.equal(back.closes(), 1);
});

import assert from "node:assert/strict";
import type { DeliveryHandler, Inbox } from "../session/inbox.ts";
import type { Outbox } from "../session/outbox.ts";
import { environmentVariable, serveFetch } from "../session/runtime.ts";
import { SessionHost } from "../session/session_host.ts";
import { createTestServer, recordingLogger } from "./_fixture.ts";

const ROOT = new URL("../", import.meta.url);

/** Every file of this checkout that the package's exports (the CLI aside) load. */
async function libraryFiles(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const files = new Set<string>();
  for (const [name, path] of Object.entries<string>(config.exports)) {
    if (name === "./cli") continue;
    const info = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", new URL(path, ROOT).pathname],
      stdout: "piped",
    }).output();
    const graph = JSON.parse(new TextDecoder().decode(info.stdout));
    for (const module of graph.modules) {
      if (module.specifier?.startsWith(ROOT.href)) files.add(module.specifier);
    }
  }
  return [...files].sort();
}

Deno.test("library modules use neither the Deno namespace nor Promise.withResolvers or Promise.try (absent on Node 20) outside session/runtime.ts", async () => {
  const files = await libraryFiles();
  assert.ok(files.some((file) => file.endsWith("/session/session_host.ts")), files.join("\n"));
  const offenders: string[] = [];
  for (const file of files) {
    if (file === new URL("session/runtime.ts", ROOT).href) continue;
    const code = (await Deno.readTextFile(new URL(file)))
      .replace(/\/\*[\s\S]*?\*\//g, "") // block comments and JSDoc (their examples may use Deno)
      .replace(/(^|\s)\/\/.*$/gm, "$1"); // line comments
    for (const line of code.split("\n")) {
      if (/\bDeno\b|Promise\.(withResolvers|try)\b/.test(line)) {
        offenders.push(`${file.slice(ROOT.href.length)}: ${line.trim()}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

Deno.test("environmentVariable() reads a variable, and treats an unset or empty one as absent", () => {
  Deno.env.set("ASYNCMCP_RUNTIME_TEST", "set");
  Deno.env.set("ASYNCMCP_RUNTIME_TEST_EMPTY", "");
  try {
    assert.equal(environmentVariable("ASYNCMCP_RUNTIME_TEST"), "set");
    assert.equal(environmentVariable("ASYNCMCP_RUNTIME_TEST_EMPTY"), undefined);
    assert.equal(environmentVariable("ASYNCMCP_RUNTIME_TEST_UNSET"), undefined);
  } finally {
    Deno.env.delete("ASYNCMCP_RUNTIME_TEST");
    Deno.env.delete("ASYNCMCP_RUNTIME_TEST_EMPTY");
  }
});

Deno.test("unrefTimer() lets a process whose only timer it is exit", async () => {
  const code = `
    import { unrefTimer } from ${JSON.stringify(new URL("session/runtime.ts", ROOT).href)};
    unrefTimer(setInterval(() => {}, 60_000));
  `;
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", code],
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(10_000),
  }).output();
  assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
});

Deno.test("serveFetch() serves a handler on a port the system chooses until closed", async () => {
  const served = await serveFetch(
    async (request) => new Response(`${request.method} ${await request.text()}`),
    { hostname: "127.0.0.1", port: 0 },
  );
  try {
    assert.ok(served.port > 0);
    const response = await fetch(`http://127.0.0.1:${served.port}/x`, {
      method: "POST",
      body: "hello",
    });
    assert.equal(await response.text(), "POST hello");
  } finally {
    await served.close();
  }
  await assert.rejects(fetch(`http://127.0.0.1:${served.port}/x`));
});

/** An inbox that starts a poll timer, then fails to start, as a half-started broker client would. */
class HalfStartingInbox implements Inbox {
  readonly acksOnReceipt = false;
  timer?: ReturnType<typeof setInterval>;
  closed = false;
  start(_handler: DeliveryHandler): Promise<void> {
    this.timer = setInterval(() => {}, 1000);
    return Promise.reject(new Error("queue unreachable"));
  }
  stop(): Promise<void> {
    clearInterval(this.timer);
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    return this.stop();
  }
}

const noOutbox: Outbox = {
  send: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

Deno.test("SessionHost.start() that fails closes its inbox, so nothing it started keeps running", async () => {
  const inbox = new HalfStartingInbox();
  const host = new SessionHost({
    inbox,
    outbox: noOutbox,
    returnAddressKey: { meta: "replyTo" },
    addressPolicy: () => true,
    createServer: () => createTestServer(),
    logger: recordingLogger(),
  });
  await assert.rejects(host.start(), /queue unreachable/);
  assert.equal(inbox.closed, true);
  assert.equal(host.status.running, false);
  await assert.rejects(host.start(), /already closed: create a new one/);
});

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** Runs a Deno subcommand in the project, with piped output. */
function deno(args: string[], env: Record<string, string> = {}): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT.pathname,
    env,
    stdout: "piped",
    stderr: "piped",
  });
}

Deno.test("examples: the webhook server, copied out of the repository, runs under deno serve and the webhook client uses it", async () => {
  const dir = await Deno.makeTempDir();
  // Alone in a folder of its own, as on Deno Deploy: only its jsr: and npm: imports can resolve.
  // This checkout's deno.json (name and version) stands in for JSR for its jsr: imports.
  await Deno.copyFile(new URL("examples/webhook_server.ts", ROOT), `${dir}/webhook_server.ts`);
  const server = deno(
    [
      "serve",
      "--config",
      new URL("deno.json", ROOT).pathname,
      "--unstable-kv",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      `${dir}/webhook_server.ts`,
    ],
    { ASYNCMCP_ALLOW_HOSTS: "127.0.0.1", DENO_KV_PATH: `${dir}/kv.sqlite3` },
  ).spawn();
  const announcements = server.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const serverOut = new Response(server.stdout).text();
  try {
    let seen = "";
    let url: string | undefined;
    while (!url) {
      const { value, done } = await announcements.read();
      if (done) assert.fail(`deno serve ended early: ${seen}`);
      seen += value;
      url = seen.match(/Listening on (http:\/\/127\.0\.0\.1:\d+)\//)?.[1];
    }
    const health = await fetch(`${url}/health`);
    assert.equal((await health.json()).running, true);
    const client = await deno([
      "run",
      "--allow-all",
      "examples/webhook_client.ts",
      `${url}/mcp/request`,
    ])
      .output();
    const out = new TextDecoder().decode(client.stdout);
    assert.equal(client.code, 0, new TextDecoder().decode(client.stderr));
    assert.match(out, /tools: echo, slow_count/);
    assert.match(out, /slow_count: .*counted to 3/);
  } finally {
    server.kill("SIGTERM");
    await announcements.cancel();
    await server.status;
    await serverOut;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples: deno task demo --transport webhook runs the scenario on loopback and exits 0", async () => {
  const demo = await deno(["run", "--allow-all", "examples/demo.ts", "--transport", "webhook"])
    .output();
  const out = new TextDecoder().decode(demo.stdout);
  assert.equal(demo.code, 0, new TextDecoder().decode(demo.stderr));
  assert.match(out, /connected to asyncmcp-example over webhook/);
  assert.match(out, /progress 5\/5/);
  assert.match(out, /slow_count .*counted to 5/);
});

Deno.test("examples: deno task demo --transport streamable-http-webhook answers slow_count by webhook and exits 0", async () => {
  const demo = await deno([
    "run",
    "--allow-all",
    "examples/demo.ts",
    "--transport",
    "streamable-http-webhook",
  ]).output();
  const out = new TextDecoder().decode(demo.stdout);
  assert.equal(demo.code, 0, new TextDecoder().decode(demo.stderr));
  assert.match(out, /tools\/list .*slow_count \(by webhook\)/);
  assert.match(out, /progress 5\/5/);
  assert.match(out, /slow_count .*counted to 5/);
});

Deno.test("examples: the task demo runs a long job as a task with its status pushed to the webhook", async () => {
  const demo = await deno(["run", "--allow-net", "examples/task_demo.ts"]).output();
  const out = new TextDecoder().decode(demo.stdout);
  assert.equal(demo.code, 0, new TextDecoder().decode(demo.stderr));
  assert.match(out, /task \w+ created/);
  assert.match(out, /pushed to the webhook: working \(chapter 1 of 3\)/);
  assert.match(out, /pushed to the webhook: completed/);
  assert.match(out, /report of 3 chapters/);
});

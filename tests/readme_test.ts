import assert from "node:assert/strict";
import { withBroker } from "./_fixture.ts";

const ROOT = new URL("../", import.meta.url);

/** The code block after each `<!-- snippet: NAME -->` marker in README.md. */
async function readmeSnippets(): Promise<Map<string, string>> {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const snippets = new Map<string, string>();
  for (const match of readme.matchAll(/<!-- snippet: (\S+) -->\s*```ts\n([\s\S]*?)```/g)) {
    snippets.set(match[1], match[2]);
  }
  return snippets;
}

/** Points the package's own import specifiers at this checkout, as JSR would resolve them. */
async function localized(code: string): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  return code.replace(/"@asyncmcp\/asyncmcp(\/[\w-]+)?"/g, (_, subpath = "") => {
    const target = config.exports[`.${subpath}`];
    assert.ok(target, `deno.json exports no ".${subpath}"`);
    return JSON.stringify(new URL(target, ROOT).href);
  });
}

Deno.test("README: the SQS server and client and the SNS+SQS snippets run as written against a broker", async () => {
  const snippets = await readmeSnippets();
  assert.deepEqual([...snippets.keys()], [
    "server.ts",
    "client.ts",
    "sns-sqs.ts",
    "webhook-server.ts",
    "webhook-client.ts",
    "streamable-http-webhook.ts",
  ]);
  await withBroker(async ({ broker, queue }) => {
    const requests = await queue("readme-requests");
    const replies = await queue("readme-replies");
    const dir = await Deno.makeTempDir();
    try {
      for (const [name, code] of snippets) {
        if (name.includes("webhook")) continue;
        await Deno.writeTextFile(`${dir}/${name}`, await localized(code));
      }
      const env = {
        ...(broker.endpoint === "aws" ? {} : { AWS_ENDPOINT_URL: broker.endpoint }),
        AWS_REGION: broker.region,
        ...(broker.embedded ? { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" } : {}),
        REQUEST_QUEUE_URL: requests.url,
        RESPONSE_QUEUE_URL: replies.url,
      };
      const run = (name: string) =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-all",
            "--config",
            new URL("deno.json", ROOT).pathname,
            `${dir}/${name}`,
          ],
          env,
          stdout: "piped",
          stderr: "piped",
        });
      const server = run("server.ts").spawn();
      const serverOut = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const serverErr = new Response(server.stderr).text();
      let banner = "";
      while (!banner.includes("serving")) {
        const { value, done } = await serverOut.read();
        if (done) assert.fail(`server snippet ended early: ${await serverErr}`);
        banner += value;
      }
      const client = await run("client.ts").output();
      const clientOut = new TextDecoder().decode(client.stdout);
      assert.equal(client.code, 0, new TextDecoder().decode(client.stderr));
      assert.match(clientOut, /Sunny in Lisbon/);
      server.kill("SIGTERM");
      await serverOut.cancel();
      assert.equal((await server.status).code, 0, await serverErr);
      const pubsub = await run("sns-sqs.ts").output();
      assert.equal(pubsub.code, 0, new TextDecoder().decode(pubsub.stderr));
      assert.match(new TextDecoder().decode(pubsub.stdout), /ping: \{\}/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("README: the webhook server and client snippets run as written on loopback", async () => {
  const snippets = await readmeSnippets();
  const dir = await Deno.makeTempDir();
  try {
    for (const name of ["webhook-server.ts", "webhook-client.ts"]) {
      await Deno.writeTextFile(`${dir}/${name}`, await localized(snippets.get(name)!));
    }
    const env = { WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", PORT: "0" };
    const run = (name: string, extra: Record<string, string> = {}) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          "--config",
          new URL("deno.json", ROOT).pathname,
          `${dir}/${name}`,
        ],
        env: { ...env, ...extra },
        stdout: "piped",
        stderr: "piped",
      });
    const server = run("webhook-server.ts").spawn();
    // Deno.serve announces where it listens on stderr.
    const serverOut = server.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const serverErr = new Response(server.stdout).text();
    let banner = "";
    let url: string | undefined;
    while (!url) {
      const { value, done } = await serverOut.read();
      if (done) assert.fail(`webhook server snippet ended early: ${await serverErr}`);
      banner += value;
      url = banner.match(/Listening on (http:\/\/127\.0\.0\.1:\d+)\//)?.[1];
    }
    const client = await run("webhook-client.ts", { SERVER_URL: `${url}/mcp/request` }).output();
    assert.equal(client.code, 0, new TextDecoder().decode(client.stderr));
    assert.match(new TextDecoder().decode(client.stdout), /Hello over webhooks/);
    server.kill("SIGTERM");
    await serverOut.cancel();
    assert.equal((await server.status).code, 0, await serverErr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README: the StreamableHTTP + Webhook snippet runs as written on loopback", async () => {
  const snippets = await readmeSnippets();
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/streamable-http-webhook.ts`;
    await Deno.writeTextFile(file, await localized(snippets.get("streamable-http-webhook.ts")!));
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--config", new URL("deno.json", ROOT).pathname, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(run.stdout);
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    assert.match(out, /build_report: webhook/);
    assert.match(out, /status: http/);
    assert.match(out, /all good/);
    assert.match(out, /report on tides/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { CreateQueueCommand, ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { startBroker } from "../examples/embedded_broker.ts";
import { listenFauxqs } from "../examples/loopback_fauxqs.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("listenFauxqs() binds the broker's socket to 127.0.0.1 only", async () => {
  const broker = await listenFauxqs();
  try {
    // The socket's own address: fauxqs's startFauxqs() would report 0.0.0.0 here.
    assert.equal(broker.hostname, "127.0.0.1");
    assert.ok(broker.port > 0);
  } finally {
    await broker.stop();
  }
});

Deno.test("deno task broker prints the environment to use, serves SQS on it, and stops on Ctrl-C", async () => {
  const child = new Deno.Command("deno", {
    args: ["task", "--quiet", "broker", "--port", "0"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(child.stderr).text();
  let printed = "";
  try {
    while (!printed.includes("AWS_SECRET_ACCESS_KEY=")) {
      const { value, done } = await lines.read();
      if (done) assert.fail(`the broker ended early: ${printed}${await stderr}`);
      printed += value;
    }
    const env = Object.fromEntries(
      printed.trim().split("\n").map((line) => line.split("=", 2) as [string, string]),
    );
    assert.match(env.AWS_ENDPOINT_URL, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(
      [env.AWS_REGION, env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY],
      ["us-east-1", "test", "test"],
    );
    const sqs = new SQSClient({
      endpoint: env.AWS_ENDPOINT_URL,
      region: env.AWS_REGION,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      },
    });
    try {
      await sqs.send(new CreateQueueCommand({ QueueName: "broker-task" }));
      const { QueueUrls } = await sqs.send(new ListQueuesCommand({}));
      assert.equal(QueueUrls?.length, 1);
    } finally {
      sqs.destroy();
    }
  } finally {
    child.kill("SIGINT");
    await lines.cancel();
  }
  const status = await child.status;
  assert.equal(status.code, 0, await stderr);
  assert.match(await stderr, /listening on http:\/\/127\.0\.0\.1:\d+ \(loopback only\)/);
  assert.match(await stderr, /broker: stopped/);
});

Deno.test("startBroker() looks an external endpoint's name up once: localhost becomes 127.0.0.1", async () => {
  const fauxqs = await listenFauxqs();
  const before = Deno.env.get("AWS_ENDPOINT_URL");
  Deno.env.set("AWS_ENDPOINT_URL", `http://localhost:${fauxqs.port}`);
  try {
    const broker = await startBroker();
    assert.equal(broker.embedded, false);
    assert.equal(broker.endpoint, `http://127.0.0.1:${fauxqs.port}`);
  } finally {
    if (before === undefined) Deno.env.delete("AWS_ENDPOINT_URL");
    else Deno.env.set("AWS_ENDPOINT_URL", before);
    await fauxqs.stop();
  }
});

import assert from "node:assert/strict";
import { type Broker, startBroker } from "../examples/embedded_broker.ts";
import { brokerEnv } from "./_fixture.ts";
import { installNodePackage, type NodePackage, npmUnavailable } from "./_node_package.ts";

const ROOT = new URL("../", import.meta.url);
const unavailable = await npmUnavailable();
if (unavailable) console.warn(`Skipping the Node and Bun tests: ${unavailable}`);

/** The code block after each `<!-- node-snippet: NAME -->` marker in README.md. */
async function nodeSnippets(): Promise<Map<string, string>> {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const snippets = new Map<string, string>();
  for (const match of readme.matchAll(/<!-- node-snippet: (\S+) -->\s*```js\n([\s\S]*?)```/g)) {
    snippets.set(match[1], match[2]);
  }
  return snippets;
}

/** Runs a command in the package's folder with the broker's environment; its output, or throws. */
async function runIn(
  pkg: NodePackage,
  env: Record<string, string>,
  command: string,
  args: string[],
): Promise<string> {
  const output = await new Deno.Command(command, {
    args,
    cwd: pkg.dir,
    env: { ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `${command} ${args.join(" ")} failed:\n${text}`);
  return text;
}

/** Creates the two queues the README snippet names, with unique names. */
async function snippetQueues(broker: Broker): Promise<Record<string, string>> {
  const sqs = broker.sqsClient();
  try {
    const run = crypto.randomUUID().slice(0, 8);
    const requests = await broker.createQueue(sqs, `node-readme-requests-${run}`);
    const replies = await broker.createQueue(sqs, `node-readme-replies-${run}`);
    return { REQUEST_QUEUE_URL: requests.url, RESPONSE_QUEUE_URL: replies.url };
  } finally {
    sqs.destroy();
  }
}

Deno.test({
  name:
    "the package built for Node runs its smoke suite (SQS, SNS+SQS, webhooks) and the README's Node snippet on Node and on Bun",
  ignore: unavailable !== undefined,
  async fn(t) {
    const pkg = await installNodePackage(["session/runtime.ts"]);
    // A broker of its own process: the long polls that Node and Bun leave behind cannot trip
    // this process's sanitizers.
    const broker = await startBroker({ childProcess: true });
    try {
      const env = brokerEnv({ broker });
      await Deno.copyFile(new URL("tests/node/smoke.mjs", ROOT), `${pkg.dir}/smoke.test.mjs`);
      const snippets = await nodeSnippets();
      assert.deepEqual([...snippets.keys()], ["weather.mjs"]);
      for (const [name, code] of snippets) await Deno.writeTextFile(`${pkg.dir}/${name}`, code);

      await t.step("node --test: the smoke suite passes", async () => {
        const output = await runIn(pkg, env, "node", ["--test", "smoke.test.mjs"]);
        assert.match(output, /^# pass 3$/m, output);
        assert.match(output, /^# fail 0$/m, output);
      });
      await t.step("node: the README snippet runs as written", async () => {
        const output = await runIn(pkg, { ...env, ...await snippetQueues(broker) }, "node", [
          "weather.mjs",
        ]);
        assert.match(output, /2026-07-28 .*Sunny in Lisbon/s, output);
      });
      await t.step({
        name: "bun test: the smoke suite passes",
        ignore: pkg.bun === undefined,
        async fn() {
          const output = await runIn(pkg, env, pkg.bun!, ["test", "./smoke.test.mjs"]);
          assert.match(output, /^\s*3 pass$/m, output);
          assert.match(output, /^\s*0 fail$/m, output);
        },
      });
      await t.step({
        name: "bun: the README snippet runs as written",
        ignore: pkg.bun === undefined,
        async fn() {
          const output = await runIn(pkg, { ...env, ...await snippetQueues(broker) }, pkg.bun!, [
            "weather.mjs",
          ]);
          assert.match(output, /2026-07-28 .*Sunny in Lisbon/s, output);
        },
      });
    } finally {
      await broker.close();
      await Deno.remove(pkg.dir, { recursive: true });
    }
  },
});

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** deno.json's exports: subpath to file. */
async function packageExports(): Promise<Array<[string, string]>> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  return Object.entries<string>(config.exports);
}

async function deno(args: string[]): Promise<{ success: boolean; text: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT.pathname,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    success: output.success,
    text: decoder.decode(output.stdout) + decoder.decode(output.stderr),
  };
}

/** The names each subpath exports, types included. */
async function exportedNames(): Promise<Map<string, Set<string>>> {
  const exports = await packageExports();
  const { text } = await deno(["doc", "--json", ...exports.map(([, path]) => path)]);
  const { nodes } = JSON.parse(text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1));
  return new Map(exports.map(([subpath, path]) => {
    const symbols: Array<{ name: string }> = nodes[new URL(path, ROOT).href]?.symbols ?? [];
    return [subpath, new Set(symbols.map((symbol) => symbol.name))];
  }));
}

Deno.test("deno doc --lint over every export reports nothing in this package's own files", async () => {
  const paths = (await packageExports()).map(([, path]) => path);
  const { text } = await deno(["doc", "--lint", ...paths]);
  // Problems inside npm packages' own declarations (the SDK's, the AWS SDK's) are theirs.
  const ours = [...text.matchAll(/^(error\[[^\]]+\]: .*)\n\s*--> (\S+)/gm)]
    .filter(([, , location]) => location.startsWith(ROOT.pathname))
    .map(([, problem, location]) => `${location.slice(ROOT.pathname.length)}: ${problem}`);
  assert.deepEqual(ours, []);
});

Deno.test("the subpaths export the building blocks of custom transports, and not the library's internals", async () => {
  const names = await exportedNames();
  const everywhere = new Set([...names.values()].flatMap((set) => [...set]));
  const internal = [
    "pause",
    "withMeta",
    "readReturnAddress",
    "takeReturnSecret",
    "methodOf",
    "requestIdOf",
    "isResponse",
    "modernRevisionOf",
    "parseJsonRpc",
    "checkJsonRpc",
    "newHexSessionId",
    "legacyOnlyError",
    "servesBothEras",
    "SessionTransport",
    "Batcher",
    "parseArn",
    "parseQueueUrl",
    "requestGate",
    "noRedirectFetch",
    "unusableSessionSecret",
    "signingKeyOf",
    "vetOf",
    "webhookReceiving",
    "refuseHeaders",
    "WebhookCallRouter",
    "serveFetch",
    "unrefTimer",
  ];
  assert.deepEqual(internal.filter((name) => everywhere.has(name)), []);
  const buildingBlocks: Record<string, string[]> = {
    "./session": [
      "Inbox",
      "Outbox",
      "SessionHost",
      "HostedServer",
      "ClientTransport",
      "ReplyRouter",
    ],
    "./sqs": ["SqsInbox", "SqsOutbox", "BatchingOutbox", "sendApi", "SQSClient", "SqsMessage"],
    "./sns-sqs": ["SnsOutbox", "decodeQueueMessage", "SNSClient", "SQSClient"],
    "./webhook": ["WebhookOutbox", "WebhookRequestOutbox", "WebhookReceiver", "WebhookVerifier"],
    "./streamable-http-webhook": ["StreamableHttpEndpoint", "StreamableHTTPClientTransportOptions"],
    "./proxy": ["ProxySession"],
  };
  for (const [subpath, expected] of Object.entries(buildingBlocks)) {
    const missing = expected.filter((name) => !names.get(subpath)?.has(name));
    assert.deepEqual(missing, [], `${subpath} lacks ${missing.join(", ")}`);
  }
});

Deno.test("deno publish --dry-run finds nothing to refuse (no slow types, every file publishable)", async () => {
  const { success, text } = await deno(["publish", "--dry-run", "--allow-dirty"]);
  assert.ok(success, text);
  assert.match(text, /Dry run complete/);
  assert.doesNotMatch(text, /warning/i);
});

/**
 * `deno task broker`: the embedded SQS/SNS broker (fauxqs) on its own, for the CLI, the proxy and
 * your own servers and clients. Prints the environment to use on standard output (`KEY=value`
 * lines, ready for an `.env` file) and runs until Ctrl-C.
 *
 * ```sh
 * deno task broker               # http://127.0.0.1:4566
 * deno task broker --port 0      # a port the OS chooses
 * ```
 *
 * fauxqs needs `node:sqlite`, so it runs under Deno (Node 20 lacks it). It listens on 127.0.0.1
 * only.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { listenFauxqs } from "./loopback_fauxqs.ts";

const HELP = `deno task broker: the embedded SQS/SNS broker (fauxqs) on 127.0.0.1

Usage: deno task broker [--port N]

  --port N   the port to listen on (default 4566, LocalStack's; 0 lets the OS choose)

Prints AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY lines for the
CLI, the proxy, the demo and the tests; Ctrl-C stops it (and its queues: nothing is kept).
`;

const { values } = parseArgs({
  args: Deno.args,
  options: { port: { type: "string" }, help: { type: "boolean", short: "h" } },
  strict: true,
});
if (values.help) {
  console.log(HELP);
  Deno.exit(0);
}
const port = Number(values.port ?? 4566);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`broker: --port must be a whole number from 0 to 65535: got '${values.port}'`);
  Deno.exit(2);
}

let broker;
try {
  broker = await listenFauxqs({ port });
} catch (error) {
  const inUse = (error as { code?: string }).code === "EADDRINUSE";
  console.error(
    inUse
      ? `broker: Cannot listen on 127.0.0.1:${port} as it is in use: stop what listens there or pick another port with --port`
      : `broker: Cannot start the broker: ${(error as Error).message}`,
  );
  Deno.exit(1);
}

const endpoint = `http://${broker.hostname}:${broker.port}`;
console.error(`broker: fauxqs listening on ${endpoint} (loopback only); Ctrl-C stops it`);
console.log(
  [
    `AWS_ENDPOINT_URL=${endpoint}`,
    "AWS_REGION=us-east-1",
    "AWS_ACCESS_KEY_ID=test",
    "AWS_SECRET_ACCESS_KEY=test",
  ].join("\n"),
);

const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, stop);
await stopped;
await broker.stop();
console.error("broker: stopped");
Deno.exit(0);

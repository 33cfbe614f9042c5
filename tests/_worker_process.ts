/**
 * A server worker in a process of its own, for tests that kill one: an SqsServer on
 * `<request queue URL>` with a KvSessionStore on the Deno KV file `<kv path>`, running the test
 * MCP server. The broker comes from the environment (`brokerEnv`). It prints `ready` once it
 * polls and `started` when a `work` call starts; that call never finishes.
 *
 * @module
 */

import { SQSClient } from "@aws-sdk/client-sqs";
import { KvSessionStore } from "../session/kv_session_store.ts";
import { silentLogger } from "../session/logger.ts";
import { SqsServer } from "../transports/sqs/mod.ts";
import { createTestServer } from "./_fixture.ts";

const [requestQueueUrl, kvPath] = Deno.args;
const endpoint = Deno.env.get("AWS_ENDPOINT_URL");
const sqs = new SQSClient({
  ...(endpoint ? { endpoint } : {}),
  region: Deno.env.get("AWS_REGION"),
});
const server = new SqsServer({
  sqs,
  requestQueueUrl,
  store: new KvSessionStore(await Deno.openKv(kvPath)),
  createServer: () =>
    createTestServer({
      work: () => {
        console.log("started");
        return new Promise(() => {});
      },
    }),
  waitTimeSeconds: 1,
  logger: silentLogger,
});
await server.start();
console.log("ready");

/**
 * A stateless server worker in a process of its own: an SqsServer on `<request queue URL>` with
 * no session store, serving SDK v2 servers whose `whoami` tool answers with this process's id.
 * It takes one message per poll, so that two workers share a burst. Prints `ready` once it polls.
 *
 * @module
 */

import { SQSClient } from "@aws-sdk/client-sqs";
import { silentLogger } from "../session/logger.ts";
import { SqsServer } from "../transports/sqs/mod.ts";
import { McpServer } from "../sdk_v2.ts";

const [requestQueueUrl] = Deno.args;
const endpoint = Deno.env.get("AWS_ENDPOINT_URL");
const sqs = new SQSClient({
  ...(endpoint ? { endpoint } : {}),
  region: Deno.env.get("AWS_REGION"),
});
const server = new SqsServer({
  sqs,
  requestQueueUrl,
  createServer: () => {
    const mcp = new McpServer({ name: "stateless-worker", version: "1.0.0" });
    mcp.registerTool("whoami", {}, async () => {
      // Long enough that a burst is shared rather than drained by whichever worker polls first.
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { content: [{ type: "text", text: String(Deno.pid) }] };
    });
    return mcp;
  },
  maxMessages: 1,
  waitTimeSeconds: 1,
  logger: silentLogger,
});
await server.start();
console.log("ready");

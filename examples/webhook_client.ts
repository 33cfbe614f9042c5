/**
 * An MCP client over webhooks: POSTs to a webhook server and receives the answers on a receiver
 * of its own (127.0.0.1, a free port). Lists the tools, calls `echo` and `slow_count`, and exits.
 *
 * ```sh
 * deno run --allow-net --allow-env examples/webhook_client.ts http://127.0.0.1:8000/mcp/request
 * ```
 *
 * Environment: `WEBHOOK_SECRET`, the server's signing secret; without it the client chooses a
 * secret for this session and sends it to the server in `initialize`.
 *
 * @module
 */

import { Client } from "../sdk.ts";
import { WebhookClientTransport } from "../transports/webhook/mod.ts";

const serverUrl = Deno.args[0] ?? "http://127.0.0.1:8000/mcp/request";
const secret = Deno.env.get("WEBHOOK_SECRET") || undefined;
const transport = new WebhookClientTransport({
  serverUrl,
  listen: true,
  signingSecret: secret,
  perSessionSecret: secret === undefined,
});
const client = new Client({ name: "webhook-example-client", version: "1.0.0" });
await client.connect(transport);
console.log(`session ${transport.sessionId}, deliveries to ${transport.webhookUrl}`);
console.log("tools:", (await client.listTools()).tools.map((tool) => tool.name).join(", "));
const echo = await client.callTool({ name: "echo", arguments: { text: "hello over webhooks" } });
console.log("echo:", JSON.stringify(echo.content));
const counted = await client.callTool({ name: "slow_count", arguments: { to: 3 } }, undefined, {
  onprogress: ({ progress, total }) => console.log(`  progress ${progress}/${total}`),
});
console.log("slow_count:", JSON.stringify(counted.content));
await client.close();

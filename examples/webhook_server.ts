/**
 * A webhook MCP server, ready for `deno serve` and Deno Deploy: the module's default export is
 * the fetch handler, and sessions live in Deno KV so that every isolate can serve every session.
 *
 * ```sh
 * ASYNCMCP_ALLOW_HOSTS=127.0.0.1 deno serve --allow-net --allow-env --host 127.0.0.1 --port 8000 examples/webhook_server.ts
 * ```
 *
 * With `DENO_KV_PATH` (a local database file) add `--allow-read --allow-write`.
 *
 * Environment:
 * - `WEBHOOK_SECRET`: signs every delivery (Standard Webhooks); clients verify with the same secret.
 *   Without it, deliveries are signed only for clients that send a per-session secret.
 * - `ASYNCMCP_ALLOW_HOSTS`: comma-separated webhook hosts allowed despite the address policy, such
 *   as `127.0.0.1` for local development. Leave it unset in production.
 * - `ASYNCMCP_SERVER_HOSTS`: comma-separated host names this server answers to (its own domain on
 *   Deno Deploy, such as `mcp-example.deno.dev`); other `Host` headers get 403 (DNS rebinding).
 *   Default: the loopback names.
 * - `ASYNCMCP_TOKENS`: comma-separated `token=principal` pairs; when set, every request needs
 *   `Authorization: Bearer <token>` and a session belongs to the principal that created it.
 *
 * @module
 */

import { KvSessionStore } from "../session/kv_session_store.ts";
import { bearerTokenAuth, WebhookServer, webhookUrlPolicy } from "../transports/webhook/mod.ts";
import { createExampleServer } from "./example_server.ts";

const list = (name: string) => (Deno.env.get(name) ?? "").split(",").filter(Boolean);
const serverHosts = list("ASYNCMCP_SERVER_HOSTS");
const tokens = Object.fromEntries(list("ASYNCMCP_TOKENS").map((pair) => pair.split("=", 2)));

const server = new WebhookServer({
  createServer: () => createExampleServer(),
  // On Deno Deploy the database is the project's own; locally DENO_KV_PATH may pick a file.
  store: new KvSessionStore(await Deno.openKv(Deno.env.get("DENO_KV_PATH") || undefined)),
  signingKey: Deno.env.get("WEBHOOK_SECRET") || undefined,
  addressPolicy: webhookUrlPolicy({ allowHosts: list("ASYNCMCP_ALLOW_HOSTS") }),
  allowedHosts: serverHosts.length > 0 ? serverHosts : undefined,
  authorize: Object.keys(tokens).length > 0 ? bearerTokenAuth(tokens) : undefined,
});
await server.start();

// Shut down as the README describes (running calls get closeGraceMs, the rest are told to send
// again, deliveries under way get closeTimeoutMs) rather than being cut off.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    await server.close();
    Deno.exit(0);
  });
}

export default {
  fetch(request: Request): Promise<Response> | Response {
    const { pathname } = new URL(request.url);
    if (pathname === "/mcp/request") return server.fetch(request);
    if (pathname === "/health") return Response.json(server.status);
    return new Response("Not found: MCP requests go to /mcp/request\n", { status: 404 });
  },
} satisfies Deno.ServeDefaultExport;

/**
 * A webhook MCP server, ready for `deno serve` and Deno Deploy: the module's default export is
 * the fetch handler, and sessions live in Deno KV so that every isolate can serve every session.
 * It imports the package by name, so this file works on its own: copy it into a project or a
 * Deno Deploy playground as it is.
 *
 * ```sh
 * ASYNCMCP_ALLOW_HOSTS=127.0.0.1 deno serve --unstable-kv --allow-net --allow-env --host 127.0.0.1 --port 8000 webhook_server.ts
 * ```
 *
 * Deno KV: built into Deno Deploy; elsewhere `--unstable-kv` (or `"unstable": ["kv"]` in
 * deno.json), and with `DENO_KV_PATH` (a local database file) add `--allow-read --allow-write`.
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

// Full specifiers, so that the file needs no deno.json: it is meant to be copied out as it is.
// deno-lint-ignore-file no-import-prefix
import { McpServer } from "jsr:@asyncmcp/asyncmcp@^0.1.0/sdk/v2";
import { KvSessionStore } from "jsr:@asyncmcp/asyncmcp@^0.1.0/session";
import {
  bearerTokenAuth,
  WebhookServer,
  webhookUrlPolicy,
} from "jsr:@asyncmcp/asyncmcp@^0.1.0/webhook";
import { z } from "npm:zod@^4.1.0";

// Built once: zod compiles a schema on its first use, and a server is built per session (and per
// 2026-07-28 client).
const ECHO_INPUT = z.object({ text: z.string() });
const SLOW_COUNT_INPUT = z.object({ to: z.number().int().min(1).max(100) });

/** The MCP server of each session: a quick tool and a slow one that reports its progress. */
function createServer(): McpServer {
  const mcp = new McpServer({ name: "asyncmcp-deploy-example", version: "1.0.0" });
  mcp.registerTool("echo", {
    description: "Returns its text at once.",
    inputSchema: ECHO_INPUT,
  }, ({ text }) => ({ content: [{ type: "text", text }] }));
  mcp.registerTool("slow_count", {
    description: "Counts to `to`, a tenth of a second a step, reporting progress after each.",
    inputSchema: SLOW_COUNT_INPUT,
  }, async ({ to }, ctx) => {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    for (let progress = 1; progress <= to; progress++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ctx.mcpReq.signal.throwIfAborted();
      if (progressToken === undefined) continue;
      await ctx.mcpReq.notify({
        method: "notifications/progress",
        params: { progressToken, progress, total: to },
      });
    }
    return { content: [{ type: "text", text: `counted to ${to}` }] };
  });
  return mcp;
}

const list = (name: string) => (Deno.env.get(name) ?? "").split(",").filter(Boolean);
const serverHosts = list("ASYNCMCP_SERVER_HOSTS");
const tokens = Object.fromEntries(list("ASYNCMCP_TOKENS").map((pair) => pair.split("=", 2)));

const server = new WebhookServer({
  createServer,
  // On Deno Deploy the database is the project's own; locally DENO_KV_PATH may pick a file.
  store: new KvSessionStore(await Deno.openKv(Deno.env.get("DENO_KV_PATH") || undefined)),
  signingKey: Deno.env.get("WEBHOOK_SECRET") || undefined,
  addressPolicy: webhookUrlPolicy({ allowHosts: list("ASYNCMCP_ALLOW_HOSTS") }),
  allowedHosts: serverHosts.length > 0 ? serverHosts : undefined,
  authorize: Object.keys(tokens).length > 0 ? bearerTokenAuth(tokens) : undefined,
});
await server.start();

// Shut down as the README describes (running calls get closeGraceMs, the rest are told to send
// again, deliveries under way get closeTimeoutMs) rather than being cut off, where the platform
// sends signals (`deno serve` does on Ctrl-C and SIGTERM). Where it offers none, the isolate ends
// without this: sessions are in KV, and only calls running in it are lost.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  try {
    Deno.addSignalListener(signal, async () => {
      await server.close();
      Deno.exit(0);
    });
  } catch {
    // No such signal here.
  }
}

export default {
  fetch(request: Request): Promise<Response> | Response {
    const { pathname } = new URL(request.url);
    if (pathname === "/mcp/request") return server.fetch(request);
    if (pathname === "/health") return Response.json(server.status);
    return new Response("Not found: MCP requests go to /mcp/request\n", { status: 404 });
  },
} satisfies Deno.ServeDefaultExport;

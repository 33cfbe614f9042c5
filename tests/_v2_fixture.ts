/**
 * Test fixtures on the MCP SDK v2: a server that serves both eras from one factory, and a client
 * that negotiates the era (`versionNegotiation: { mode: "auto" }`).
 *
 * @module
 */

import { acceptedContent } from "@modelcontextprotocol/server";
import { z } from "zod";
import { Client, inputRequired, McpServer } from "../sdk_v2.ts";
import type { ServerProbe } from "./_fixture.ts";

/** What the v2 test server records beyond a v1 probe. */
export interface V2Probe extends ServerProbe {
  /** The `_meta` each `meta` call saw. */
  metas: Array<Record<string, unknown>>;
  /** The era of each server the factory built. */
  eras: string[];
}

/** Creates an empty probe. */
export function newV2Probe(): V2Probe {
  return { started: [], aborted: [], runs: 0, metas: [], eras: [] };
}

/**
 * The v2 test server: the same small tools as the v1 one (`echo`, `progress`, `wait_for_cancel`,
 * `count_runs`, `fail`), plus `confirm` (asks the user through `input_required`, which the SDK
 * turns into an elicitation request on 2025 sessions) and `meta` (reports the request's
 * `_meta`).
 */
export function createV2TestServer(
  probe: V2Probe = newV2Probe(),
  context: { era?: string } = {},
): McpServer {
  probe.eras.push(context.era ?? "unknown");
  const server = new McpServer(
    { name: "asyncmcp-test-v2", version: "2.0.0" },
    { capabilities: { tools: { listChanged: true } } },
  );
  server.registerTool(
    "echo",
    { inputSchema: z.object({ text: z.string() }) },
    ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  server.registerTool(
    "progress",
    { inputSchema: z.object({ steps: z.number().int() }) },
    async ({ steps }, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      for (let step = 1; step <= steps; step++) {
        if (progressToken === undefined) continue;
        await ctx.mcpReq.notify({
          method: "notifications/progress",
          params: { progressToken, progress: step, total: steps },
        });
      }
      return { content: [{ type: "text", text: `${steps} steps` }] };
    },
  );
  server.registerTool(
    "wait_for_cancel",
    { inputSchema: z.object({ id: z.string() }) },
    ({ id }, ctx) =>
      new Promise((_, reject) => {
        probe.started.push(id);
        ctx.mcpReq.signal.addEventListener("abort", () => {
          probe.aborted.push(id);
          reject(new Error("cancelled"));
        }, { once: true });
      }),
  );
  server.registerTool("count_runs", {}, () => {
    probe.runs++;
    return { content: [{ type: "text", text: String(probe.runs) }] };
  });
  server.registerTool("fail", {}, () => {
    throw new Error("the tool failed on purpose");
  });
  const confirmation = z.object({ ok: z.boolean() });
  server.registerTool(
    "confirm",
    { inputSchema: z.object({ action: z.string() }) },
    ({ action }, ctx) => {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, "confirm", confirmation);
      if (answer === undefined) {
        return inputRequired({
          inputRequests: {
            confirm: inputRequired.elicit({
              message: `Really ${action}?`,
              requestedSchema: confirmation,
            }),
          },
          requestState: `pending:${action}`,
        });
      }
      return {
        content: [{ type: "text", text: `${action} ${answer.ok ? "confirmed" : "declined"}` }],
      };
    },
  );
  server.registerTool("meta", {}, (ctx) => {
    probe.metas.push({ ...(ctx.mcpReq._meta ?? {}) });
    return { content: [{ type: "text", text: JSON.stringify(ctx.mcpReq._meta ?? {}) }] };
  });
  return server;
}

/** A v2 client that negotiates the era and confirms every `confirm` elicitation. */
export function createV2TestClient(name = "test-client-v2"): Client {
  const client = new Client({ name, version: "2.0.0" }, {
    versionNegotiation: { mode: "auto" },
    capabilities: { elicitation: { form: {} } },
  });
  client.setRequestHandler("elicitation/create", () => ({
    action: "accept",
    content: { ok: true },
  }));
  return client;
}

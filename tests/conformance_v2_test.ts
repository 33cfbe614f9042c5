import {
  createMcpHandler,
  hostHeaderValidationResponse,
  isLegacyRequest,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  type McpHttpHandler,
  originValidationResponse,
  WebStandardStreamableHTTPServerTransport,
} from "@modelcontextprotocol/server";
import { assertAllActivePass, assertRequired2026Pass, runConformance } from "./_mcp_conformance.ts";
import {
  type ConformanceStateV2,
  createConformanceServerV2,
  newConformanceStateV2,
} from "./_mcp_conformance_server_v2.ts";
import type { Cleanup } from "./_fixture.ts";
import { serveOnLoopback, withCleanup } from "./_webhook_fixture.ts";

/** Refuses what DNS rebinding would send (a foreign Host or Origin), as the SDK advises. */
function localOnly(fetch: (request: Request) => Promise<Response>) {
  return (request: Request) =>
    hostHeaderValidationResponse(request, localhostAllowedHostnames()) ??
      originValidationResponse(request, localhostAllowedOrigins()) ??
      fetch(request);
}

/** Serves the fixture on the SDK's own entry, 2026-07-28 per request and 2025 statelessly. */
async function serveOnMcpHandler(
  cleanup: Cleanup,
  state: ConformanceStateV2,
): Promise<{ url: string; handler: McpHttpHandler }> {
  const handler = createMcpHandler((ctx) => createConformanceServerV2({ ...ctx, state }), {
    bus: state.bus,
  });
  const { url } = await serveOnLoopback(cleanup, localOnly(handler.fetch));
  cleanup(() => handler.close());
  cleanup(() => state.tasks.close());
  return { url: `${url}/mcp`, handler };
}

/**
 * Serves 2025 sessions the sessionful way: one SDK v2 streamable HTTP transport and one fixture
 * server per session (server→client requests need a session: the client's answer comes back on
 * another POST). Anything carrying the 2026-07-28 envelope goes to `modern`.
 */
function perSessionLegacy(
  state: ConformanceStateV2,
  modern: McpHttpHandler,
): { fetch: (request: Request) => Promise<Response>; close: () => Promise<void> } {
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
  return {
    async fetch(request) {
      if (!await isLegacyRequest(request)) return modern.fetch(request);
      const sessionId = request.headers.get("mcp-session-id");
      const known = sessionId === null ? undefined : sessions.get(sessionId);
      if (known !== undefined) return known.handleRequest(request);
      if (sessionId !== null || request.method !== "POST") {
        return Response.json({
          jsonrpc: "2.0",
          error: { code: -32001, message: "Session not found" },
          id: null,
        }, { status: 404 });
      }
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, transport),
        onsessionclosed: (id) => void sessions.delete(id),
      });
      await createConformanceServerV2({ era: "legacy", state }).connect(transport);
      return transport.handleRequest(request);
    },
    async close() {
      await Promise.all([...sessions.values()].map((transport) => transport.close()));
      sessions.clear();
    },
  };
}

Deno.test("conformance 2026-07-28: every required server scenario passes against the v2 fixture on the SDK's own handler", async () => {
  await withCleanup(async (cleanup) => {
    const { url } = await serveOnMcpHandler(cleanup, newConformanceStateV2());
    // A requirements run also runs, unscored, the tasks extension and the pending scenarios.
    const result = await runConformance(url, {
      version: "0.2.0-alpha.12",
      requirements: "2026-07-28",
    });

    assertRequired2026Pass(result);
  });
});

Deno.test("conformance 2025-11-25: every active scenario passes against the v2 fixture on per-session SDK v2 transports", async () => {
  await withCleanup(async (cleanup) => {
    const state = newConformanceStateV2();
    const modern = createMcpHandler((ctx) => createConformanceServerV2({ ...ctx, state }), {
      legacy: "reject",
    });
    const server = perSessionLegacy(state, modern);
    const { url } = await serveOnLoopback(cleanup, localOnly(server.fetch));
    cleanup(() => modern.close());
    cleanup(() => server.close());
    assertAllActivePass(await runConformance(`${url}/mcp`));
  });
});

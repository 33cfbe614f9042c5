import assert from "node:assert/strict";
import { silentLogger } from "../session/logger.ts";
import { StreamableHttpWebhookServer } from "../transports/streamable_http_webhook/streamable_http_webhook_server.ts";
import { runConformance } from "./_mcp_conformance.ts";
import { createConformanceServer } from "./_mcp_conformance_server.ts";
import { serveOnLoopback, withCleanup } from "./_webhook_fixture.ts";

/** The active server scenarios of conformance 0.1.16 (its `list` command names them). */
const ACTIVE_SCENARIOS = 30;

Deno.test("conformance: every active server scenario passes against StreamableHttpWebhookServer", async () => {
  await withCleanup(async (cleanup) => {
    const server = new StreamableHttpWebhookServer({
      createServer: createConformanceServer,
      retryInterval: 200,
      logger: silentLogger,
    });
    const { url } = await serveOnLoopback(cleanup, server.fetch);
    cleanup(() => server.close());
    const result = await runConformance(`${url}/mcp`);
    assert.deepEqual(result.failed, [], result.output);
    assert.equal(result.scenarios.length, ACTIVE_SCENARIOS, result.scenarios.join(", "));
    assert.ok(result.scenarios.includes("dns-rebinding-protection"));
    assert.ok(result.passed >= ACTIVE_SCENARIOS);
  });
});

import { silentLogger } from "../session/logger.ts";
import { StreamableHttpWebhookServer } from "../transports/streamable_http_webhook/streamable_http_webhook_server.ts";
import { assertAllActivePass, runConformance } from "./_mcp_conformance.ts";
import { createConformanceServer } from "./_mcp_conformance_server.ts";
import { serveOnLoopback, withCleanup } from "./_webhook_fixture.ts";

Deno.test("conformance: every active server scenario passes against StreamableHttpWebhookServer", async () => {
  await withCleanup(async (cleanup) => {
    const server = new StreamableHttpWebhookServer({
      createServer: createConformanceServer,
      retryInterval: 200,
      logger: silentLogger,
    });
    const { url } = await serveOnLoopback(cleanup, server.fetch);
    cleanup(() => server.close());
    assertAllActivePass(await runConformance(`${url}/mcp`));
  });
});

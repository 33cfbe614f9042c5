import { type BackEndKind, serveProxy, startBackEnd } from "./_conformance_back_ends.ts";
import { withBroker } from "./_fixture.ts";
import { assertAllActivePass, runConformance } from "./_mcp_conformance.ts";
import { createConformanceServer } from "./_mcp_conformance_server.ts";

const BACK_ENDS: { kind: BackEndKind; name: string }[] = [
  { kind: "SQS", name: "a server behind SQS" },
  { kind: "SNS+SQS", name: "a server behind SNS+SQS" },
  { kind: "Webhook", name: "a webhook server" },
  { kind: "StreamableHTTP+Webhook", name: "a StreamableHTTP+Webhook server" },
];

for (const { kind, name } of BACK_ENDS) {
  Deno.test(`conformance: every active server scenario passes through the proxy to ${name}`, async () => {
    await withBroker(async (context) => {
      const backEnd = await startBackEnd(context, kind, { createServer: createConformanceServer });
      assertAllActivePass(await runConformance((await serveProxy(context, backEnd)).url));
    });
  });
}

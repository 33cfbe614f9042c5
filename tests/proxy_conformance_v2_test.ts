/**
 * The 2026-07-28 requirements through the proxy to an SDK v2 server behind each back end, with the
 * 2025-11-25 suite run against the same proxy at the same time: one proxy, one server, both eras.
 */

import {
  type BackEndKind,
  type ConformanceBackEnd,
  serveProxy,
  startBackEnd,
} from "./_conformance_back_ends.ts";
import { type BrokerContext, withBroker } from "./_fixture.ts";
import {
  assertAllActivePass,
  assertRequired2026Pass,
  type Required2026,
  REQUIRED_2026_CHECKS,
  runConformance,
} from "./_mcp_conformance.ts";
import { createConformanceServerV2, newConformanceStateV2 } from "./_mcp_conformance_server_v2.ts";

/** Starts the v2 fixture behind `kind`, its tasks and change events shared by every request. */
async function startV2BackEnd(
  context: BrokerContext,
  kind: BackEndKind,
): Promise<ConformanceBackEnd> {
  const state = newConformanceStateV2();
  context.cleanup(() => state.tasks.close());
  return await startBackEnd(context, kind, {
    createServer: (ctx) => createConformanceServerV2({ ...ctx, state }),
    bus: state.bus,
  });
}

/** Runs both suites against `url` at once and asserts each. */
async function assertBothErasPass(url: string, expected?: Required2026): Promise<void> {
  const [modern, legacy] = await Promise.all([
    runConformance(url, { version: "0.2.0-alpha.12", requirements: "2026-07-28" }),
    runConformance(url),
  ]);
  assertRequired2026Pass(modern, expected);
  assertAllActivePass(legacy);
}

const BACK_ENDS: { kind: BackEndKind; name: string }[] = [
  { kind: "SQS", name: "behind SQS" },
  { kind: "SNS+SQS", name: "behind SNS+SQS" },
  { kind: "Webhook", name: "behind a webhook server" },
  { kind: "StreamableHTTP+Webhook", name: "on a StreamableHTTP+Webhook server" },
];

for (const { kind, name } of BACK_ENDS) {
  Deno.test(`conformance 2026-07-28 and 2025-11-25 pass at once through one proxy to a v2 server ${name}`, async () => {
    await withBroker(async (context) => {
      const backEnd = await startV2BackEnd(context, kind);
      // The proxy answers on SSE streams: the SSE check of server-sse-multiple-streams succeeds.
      await assertBothErasPass((await serveProxy(context, backEnd)).url, {
        requiredChecks: REQUIRED_2026_CHECKS + 1,
      });
    });
  });
}

Deno.test("conformance 2026-07-28 and 2025-11-25 pass at once against a StreamableHTTP+Webhook server on SDK v2", async () => {
  await withBroker(async (context) => {
    const { directUrl } = await startV2BackEnd(context, "StreamableHTTP+Webhook");
    // Its 2026-07-28 answers on HTTP are JSON, as the SDK's entry answers by default.
    await assertBothErasPass(directUrl!, { requiredChecks: REQUIRED_2026_CHECKS });
  });
});

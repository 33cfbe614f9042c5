import assert from "node:assert/strict";
import type { Client as ClientV1 } from "../sdk.ts";
import type { Client as ClientV2 } from "../sdk_v2.ts";
import type { SessionOptions } from "../session/session_host.ts";
import { ERA_HARNESSES, type EraHarness, type EraSetup } from "./_eras_harness.ts";
import {
  createTestClient,
  createTestServer,
  eventually,
  newProbe,
  type ServerProbe,
  textOf,
  withBroker,
} from "./_fixture.ts";
import { createV2TestClient, createV2TestServer, newV2Probe } from "./_v2_fixture.ts";

type Sdk = "v1" | "v2";
type AnyClient = ClientV1 | ClientV2;

const MODERN = "2026-07-28";
const LEGACY = "2025-11-25";

/** Each pairing of client and server SDK, and the era they must settle on. */
const PAIRINGS: Array<{ client: Sdk; server: Sdk; era: string }> = [
  { client: "v1", server: "v1", era: LEGACY },
  { client: "v1", server: "v2", era: LEGACY },
  { client: "v2", server: "v1", era: LEGACY },
  { client: "v2", server: "v2", era: MODERN },
];

function serverOf(sdk: Sdk, probe: ServerProbe): Partial<SessionOptions> {
  return sdk === "v1"
    ? { createServer: () => createTestServer({ probe }) }
    : { createServer: (context) => createV2TestServer({ ...newV2Probe(), ...probe }, context) };
}

function clientOf(sdk: Sdk): AnyClient {
  return sdk === "v1" ? createTestClient() : createV2TestClient();
}

/** `callTool` of either SDK (their option arguments sit in different places). */
function callTool(
  client: AnyClient,
  name: string,
  args: Record<string, unknown>,
  options: { signal?: AbortSignal; onprogress?: (progress: { progress: number }) => void } = {},
): Promise<unknown> {
  if ("getProtocolEra" in client) return client.callTool({ name, arguments: args }, options);
  return (client as ClientV1).callTool({ name, arguments: args }, undefined, options);
}

/** What a test of one pairing gets. */
interface Paired {
  client: AnyClient;
  probe: ServerProbe;
  server: EraSetup["server"];
  /** The protocol version the client settled on, as its transport saw it. */
  protocolVersion: () => string | undefined;
}

/** Runs `fn` with the pairing's server on a fresh broker and its client connected. */
function inPairing(
  harness: EraHarness,
  pairing: (typeof PAIRINGS)[number],
  fn: (paired: Paired) => Promise<void>,
): Promise<void> {
  return withBroker(async (context) => {
    const probe = newProbe();
    const setup = await harness.setup(context, serverOf(pairing.server, probe));
    const client = clientOf(pairing.client);
    const transport = await setup.transport();
    await client.connect(transport);
    context.cleanup(() => client.close());
    await fn({
      client,
      probe,
      server: setup.server,
      protocolVersion: () => transport.protocolVersion,
    });
  });
}

for (const harness of ERA_HARNESSES) {
  for (const pairing of PAIRINGS) {
    const pair = `a ${pairing.client} client and a ${pairing.server} server`;
    const era = pairing.era === MODERN ? "2026-07-28, with no session" : "a 2025-11-25 session";

    Deno.test(`${harness.name}: ${pair} settle on ${era} and call a tool with progress`, async () => {
      await inPairing(harness, pairing, async ({ client, server, protocolVersion }) => {
        assert.equal(protocolVersion(), pairing.era);
        assert.equal(server.status.sessions, pairing.era === MODERN ? 0 : 1);
        const progress: number[] = [];
        const result = await callTool(client, "progress", { steps: 3 }, {
          onprogress: ({ progress: step }) => void progress.push(step),
        });
        assert.equal(textOf(result), "3 steps");
        // Standard queues may deliver the last notification after the result (the SDK then drops
        // it): some arrive, in order, none twice.
        assert.ok(progress.length >= 1, "no progress notification arrived before the result");
        assert.deepEqual(progress, [1, 2, 3].slice(0, progress.length));
      });
    });

    Deno.test(`${harness.name}: ${pair} cancel a call and the tool's signal is aborted`, async () => {
      await inPairing(harness, pairing, async ({ client, probe, server }) => {
        const abort = new AbortController();
        const call = callTool(client, "wait_for_cancel", { id: "c1" }, { signal: abort.signal });
        await eventually(() => probe.started.includes("c1"));
        abort.abort("changed my mind");
        await assert.rejects(call);
        await eventually(() => probe.aborted.includes("c1"));
        await eventually(() => server.status.inFlightRequests === 0);
      });
    });

    Deno.test(`${harness.name}: ${pair} get a failing tool's error as an error result`, async () => {
      await inPairing(harness, pairing, async ({ client }) => {
        const result = await callTool(client, "fail", {}) as { isError?: boolean };
        assert.equal(result.isError, true);
        assert.match(textOf(result), /failed on purpose/);
      });
    });
  }
}

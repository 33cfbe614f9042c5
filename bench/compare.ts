/**
 * `deno run --allow-all bench/compare.ts`: variants of the server and client options side by side
 * in one run, interleaved so that all see the same machine, for before/after figures. Each
 * variant gets its own queues and server processes; every round measures each variant in turn
 * (session calls at one client sampled alternately with raw round trips and the other variants,
 * then the loads at 256 in flight), and the medians over the rounds are printed with their
 * ranges.
 *
 * Environment: `BENCH_VARIANTS` (JSON: a name for each variant, with `server` options, `client`
 * options, and `pollers` for both; default: one poll per queue against the defaults),
 * `BENCH_ROUNDS` (default 3), `BENCH_CALLS` (sequential calls per round, default 300),
 * `BENCH_LOAD_CALLS` (calls per load, default 10000), `BENCH_TARGETS` (`SQS`, `SNS+SQS` or both,
 * the default), `BENCH_LOADS` (which of `shared`, `own`, `modern`, `ceiling` to run; default
 * `shared,own`), `BENCH_VERBOSE` (API call counts of each load).
 *
 * @module
 */

import { startBroker } from "../examples/embedded_broker.ts";
import { RawPipelineClient } from "./raw_pipeline.ts";
import { type Channel, snsTarget, sqsTarget, type Target } from "./targets.ts";
import {
  type AnyClient,
  connect,
  CountingBroker,
  type Counts,
  echo,
  type Measured,
  measuredLoad,
} from "./runs.ts";
import { type ServerHandle, startServerProcess } from "./server_control.ts";
import { childPid, median, percentile, shuffled } from "./stats.ts";

interface Variant {
  /** Most long polls per queue on both sides (server and clients). */
  pollers?: number;
  server?: Record<string, unknown>;
  client?: Record<string, unknown>;
}

const env = (name: string) => Deno.env.get(name) || undefined;
const VARIANTS: Record<string, Variant> = JSON.parse(
  env("BENCH_VARIANTS") ?? '{"one poll per queue":{"pollers":1},"default":{}}',
);
const ROUNDS = Number(env("BENCH_ROUNDS") ?? 3);
const CALLS = Number(env("BENCH_CALLS") ?? 300);
const LOAD_CALLS = Number(env("BENCH_LOAD_CALLS") ?? 10_000);
const TARGETS = (env("BENCH_TARGETS") ?? "SQS,SNS+SQS").split(",");
const LOADS = (env("BENCH_LOADS") ?? "shared,own").split(",")
  .filter((load) => ["shared", "own", "modern", "ceiling"].includes(load));
const IN_FLIGHT = 256;
const CLIENTS = 8;

const broker = await startBroker({ childProcess: true });
const counting = new CountingBroker(broker);
const brokerPid = broker.embedded ? childPid("fauxqs_main") : undefined;
const setup = broker.sqsClient();
const setupSns = broker.snsClient();
const names = Object.keys(VARIANTS);
const lines: string[] = [];

for (const targetName of TARGETS) {
  const run = crypto.randomUUID().slice(0, 8);
  const prepared: Array<{ name: string; target: Target; servers: Record<string, ServerHandle> }> =
    [];
  for (const [index, name] of names.entries()) {
    const variant = VARIANTS[name];
    const pollers = variant.pollers === undefined ? {} : { pollers: variant.pollers };
    const clientOptions = { ...pollers, ...variant.client };
    const target = targetName === "SQS"
      ? await sqsTarget(setup, `${run}-${index}`, CLIENTS, clientOptions)
      : await snsTarget(setup, setupSns, `${run}-${index}`, CLIENTS, clientOptions);
    const config = (kind: "v1" | "v2", queueUrl: string) => ({
      transport: target.transport,
      endpoint: broker.endpoint,
      queueUrl,
      kind,
      ...pollers,
      options: variant.server,
    });
    const servers: Record<string, ServerHandle> = {
      session: await startServerProcess(config("v1", target.serverQueue.session)),
    };
    if (LOADS.includes("modern")) {
      servers.modern = await startServerProcess(config("v2", target.serverQueue.modern));
    }
    if (LOADS.includes("ceiling")) {
      servers.raw = await startServerProcess({
        transport: target.transport,
        endpoint: broker.endpoint,
        queueUrl: target.raw.serverQueue,
        kind: "raw",
        sendTo: target.raw.replyAddress,
        pollers: variant.pollers ?? 2,
      });
    }
    prepared.push({ name, target, servers });
  }
  const results = new Map<string, { latency: number[]; ratio: number[]; loads: Measured[][] }>();
  for (const { name } of prepared) {
    results.set(name, { latency: [], ratio: [], loads: LOADS.map(() => []) });
  }
  for (let round = 1; round <= ROUNDS; round++) {
    console.error(`${targetName}: round ${round} of ${ROUNDS}`);
    // One client per variant, calls alternating with raw round trips.
    const { sqs, sns } = counting.clients(new Map());
    const clients: AnyClient[] = [];
    for (const { target } of prepared) {
      clients.push(await connect(target.clientTransport(sqs, sns, "session", 0), "session"));
    }
    const raw: number[] = [];
    const samples = prepared.map(() => [] as number[]);
    // In a fresh random order each time: a call's trailing acknowledgements slow the next sample.
    const samplers = [
      async () => raw.push(await prepared[0].target.rawRoundTrip(sqs, sns)),
      ...clients.map((client, index) => async () => {
        const started = performance.now();
        await echo(client, "call");
        samples[index].push(performance.now() - started);
      }),
    ];
    for (let i = 0; i < CALLS + 50; i++) {
      if (i === 50) [raw, ...samples].forEach((list) => list.length = 0);
      for (const sampler of shuffled(samplers)) await sampler();
    }
    await Promise.all(clients.map((client) => client.close()));
    sqs.destroy();
    sns.destroy();
    for (const [index, { name }] of prepared.entries()) {
      const p50 = percentile(samples[index], 0.5);
      results.get(name)!.latency.push(p50);
      results.get(name)!.ratio.push(p50 / (2 * percentile(raw, 0.5)));
    }
    for (const [loadIndex, load] of LOADS.entries()) {
      for (const { name, target, servers } of prepared) {
        const measured = await measure(target, servers, load);
        console.error(
          `  ${name}, ${load}: ${Math.round(measured.callsPerSecond)} calls/s, ` +
            `${measured.requestsPerCall.toFixed(2)} requests per call`,
        );
        results.get(name)!.loads[loadIndex].push(measured);
      }
    }
  }
  for (const { servers } of prepared) {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
  }
  const range = (values: number[], digits: number) =>
    `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${
      Math.max(...values).toFixed(digits)
    })`;
  lines.push(`\n${targetName}, medians of ${ROUNDS} rounds (ranges):\n`);
  lines.push(`| measure | ${names.join(" | ")} |`, `|---|${names.map(() => "---").join("|")}|`);
  const row = (label: string, pick: (name: string) => string) =>
    lines.push(`| ${label} | ${names.map(pick).join(" | ")} |`);
  row("tools/call, 1 client, median (ms)", (name) => range(results.get(name)!.latency, 2));
  row("÷ (2 × raw median)", (name) => range(results.get(name)!.ratio, 2));
  for (const [loadIndex, load] of LOADS.entries()) {
    const of = (name: string) => results.get(name)!.loads[loadIndex];
    row(`${load}: calls/s`, (name) => range(of(name).map((m) => m.callsPerSecond), 0));
    row(`${load}: requests per call`, (name) => range(of(name).map((m) => m.requestsPerCall), 2));
    row(
      `${load}: requests after the last answer (acknowledgements behind)`,
      (name) => range(of(name).map((m) => m.trailingRequests), 0),
    );
    row(`${load}: CPU per call, clients / server / broker (ms)`, (name) => {
      const cpu = of(name).map((m) => m.cpu);
      return [
        median(cpu.map((c) => c.clients)),
        median(cpu.map((c) => c.server)),
        median(cpu.map((c) => c.broker ?? NaN)),
      ].map((value) => value.toFixed(2)).join(" / ");
    });
  }
}
setup.destroy();
setupSns.destroy();
await broker.close();
console.log(lines.join("\n"));
Deno.exit(0);

/** One load at 256 in flight over 8 clients: `shared`, `own`, `modern` or `ceiling`. */
async function measure(
  target: Target,
  servers: Record<string, ServerHandle>,
  load: string,
): Promise<Measured> {
  const counts: Counts = new Map();
  const { sqs, sns } = counting.clients(counts);
  const base = {
    counts,
    brokerPid,
    inFlight: IN_FLIGHT,
    calls: LOAD_CALLS,
    warmUp: 1000,
    verbose: Boolean(env("BENCH_VERBOSE")),
  };
  try {
    if (load === "ceiling") {
      const client = new RawPipelineClient({
        sqs,
        sns,
        queueUrl: target.raw.replyQueue,
        sendTo: target.raw.requestAddress,
        polls: 2,
      });
      client.start();
      const measured = await measuredLoad({
        ...base,
        server: servers.raw,
        call: () => client.call(),
      });
      await client.close();
      return measured;
    }
    const era = load === "modern" ? "modern" : "session";
    const channels: Channel[] = Array.from(
      { length: CLIENTS },
      (_, i) => load === "own" ? i : "shared",
    );
    const clients = await Promise.all(
      channels.map((channel) => connect(target.clientTransport(sqs, sns, era, channel), era)),
    );
    const measured = await measuredLoad({
      ...base,
      server: era === "modern" ? servers.modern : servers.session,
      call: (worker) => echo(clients[worker % clients.length], "load"),
    });
    await Promise.all(clients.map((client) => client.close()));
    return measured;
  } finally {
    sqs.destroy();
    sns.destroy();
  }
}

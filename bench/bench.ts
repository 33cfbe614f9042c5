/**
 * `deno task bench`: latency, throughput and costs of MCP over SQS and SNS+SQS on the embedded
 * broker (or on `AWS_ENDPOINT_URL`), and over webhooks beside the SDK's own Streamable HTTP on
 * loopback.
 *
 * Processes as in production: the broker, the MCP servers (`server_process.ts`: 2025 sessions on
 * SDK v1, 2026-07-28 on SDK v2, an idle one, the raw pipeline's server half) and the clients (this
 * one). Raw broker round trips, session calls and 2026-07-28 calls are sampled alternately, so
 * that all see the same machine. Shows each step on standard error as it runs (a progress bar on
 * a terminal) and prints the Markdown tables for the README, and the targets met or missed, on
 * standard output at the end.
 *
 * Environment: `BENCH_QUICK` (a run under 30 s: fewer calls, 1,000 sessions), `BENCH_CALLS`
 * (sequential calls, default 1000), `BENCH_LOAD_CALLS` (calls at 256 in flight, default 20000;
 * other loads scale from it), `BENCH_ROUNDS` (rounds of the loads at 256 in flight, medians
 * reported; default 1), `BENCH_SESSIONS` (idle sessions for the memory figure, default 10000),
 * `BENCH_HTTP_LOAD_CALLS` (over HTTP, default 5000), `BENCH_ONLY` (`broker` or `http`: one
 * section), `BENCH_SERVER_POLLERS` / `BENCH_CLIENT_POLLERS` (most long polls per queue; default
 * the library's), `BENCH_RAW_POLLS` (the raw pipeline's long polls per queue, default 2),
 * `BENCH_SERVER_OPTIONS` / `BENCH_CLIENT_OPTIONS` (JSON, more options for experiments),
 * `ASYNCMCP_AWS_HTTP=sdk` (the hot calls through the AWS SDK instead of `fetch`, in every
 * process), `BENCH_PROFILE_DIR` (write the servers' CPU profiles there), `BENCH_VERBOSE` (API
 * call counts), `BENCH_STRICT` (exit with status 1 when a target is missed).
 *
 * @module
 */

import { type Broker, startBroker } from "../examples/embedded_broker.ts";
import { StreamableHttpProxy } from "../proxy/http_proxy.ts";
import { Client, StreamableHTTPClientTransport } from "../sdk.ts";
import { silentLogger } from "../session/logger.ts";
import { ensureQueue } from "../transports/sns_sqs/mod.ts";
import { httpSection } from "./http_section.ts";
import type { LoadFigures } from "./load.ts";
import { Progress, type ProgressStep } from "./progress.ts";
import { RawPipelineClient } from "./raw_pipeline.ts";
import { ms, perSecond, Report } from "./report.ts";
import {
  type AnyClient,
  connect,
  CountingBroker,
  type Counts,
  echo,
  type Measured,
  measuredLoad,
  MODERN,
  sum,
} from "./runs.ts";
import { type ServerHandle, startServerProcess } from "./server_control.ts";
import type { ServerProcessConfig } from "./server_process.ts";
import { openIdleSessions } from "./session_memory.ts";
import { childPid, median, percentile, shuffled } from "./stats.ts";
import { type Channel, snsTarget, sqsTarget, type Target } from "./targets.ts";

const env = (name: string) => Deno.env.get(name) || undefined;
const QUICK = Boolean(env("BENCH_QUICK"));
const SEQUENTIAL_CALLS = Number(env("BENCH_CALLS") ?? (QUICK ? 50 : 1000));
const LOAD_CALLS = Number(env("BENCH_LOAD_CALLS") ?? (QUICK ? 600 : 20_000));
const ROUNDS = Number(env("BENCH_ROUNDS") ?? 1);
const SESSIONS = Number(env("BENCH_SESSIONS") ?? (QUICK ? 500 : 10_000));
const HTTP_LOAD_CALLS = Number(env("BENCH_HTTP_LOAD_CALLS") ?? (QUICK ? 200 : 5000));
const SERVER_POLLERS = env("BENCH_SERVER_POLLERS");
const CLIENT_POLLERS = env("BENCH_CLIENT_POLLERS");
const RAW_POLLS = Number(env("BENCH_RAW_POLLS") ?? 2);
const SERVER_OPTIONS = JSON.parse(env("BENCH_SERVER_OPTIONS") ?? "{}");
const CLIENT_OPTIONS = {
  ...(CLIENT_POLLERS ? { pollers: Number(CLIENT_POLLERS) } : {}),
  ...JSON.parse(env("BENCH_CLIENT_OPTIONS") ?? "{}"),
};
const PROFILE_DIR = env("BENCH_PROFILE_DIR");
const VERBOSE = Boolean(env("BENCH_VERBOSE"));
const ONLY = env("BENCH_ONLY");
const STRICT = Boolean(env("BENCH_STRICT"));
const LOAD_CLIENTS = 8;
const IN_FLIGHT = 256;
/** Calls in flight of the sweep (throughput and latency at each). */
const LEVELS = [1, 16, 64, 256, 1024];
const WARM_UP = QUICK ? 10 : 100;

const progress = new Progress();
const report = new Report();
/** Targets met and missed, printed after the tables. */
const verdicts: Array<{ met: boolean; text: string }> = [];

/** The processes of one target: its servers, and the broker when it runs here. */
interface Processes {
  session: ServerHandle;
  modern: ServerHandle;
  raw: ServerHandle;
  brokerPid?: number;
}

/** Calls before the measured ones: a quarter of them, at most 2,000. */
function warmUpFor(calls: number): number {
  return Math.min(2000, Math.ceil(calls / 4));
}

/** Calls at `inFlight` in flight: enough for a stable rate and a p99. */
function callsAt(inFlight: number): number {
  return Math.max(Math.ceil(LOAD_CALLS / 20), Math.min(LOAD_CALLS, inFlight * 80));
}

/** Load on `role`'s server from `channels.length` clients, `inFlight` calls spread over them. */
async function clientLoad(
  counting: CountingBroker,
  target: Target,
  processes: Processes,
  role: "session" | "modern",
  channels: Channel[],
  inFlight: number,
  step: ProgressStep,
): Promise<Measured> {
  const counts: Counts = new Map();
  const { sqs, sns } = counting.clients(counts);
  const clients = await Promise.all(
    channels.map((channel) => connect(target.clientTransport(sqs, sns, role, channel), role)),
  );
  const server = role === "modern" ? processes.modern : processes.session;
  const measured = await measuredLoad({
    counts,
    server,
    brokerPid: processes.brokerPid,
    call: (worker) => echo(clients[worker % clients.length], "load"),
    inFlight,
    calls: callsAt(inFlight),
    warmUp: warmUpFor(callsAt(inFlight)),
    onCall: () => step.tick(),
    verbose: VERBOSE,
  });
  await Promise.all(clients.map((client) => client.close()));
  sqs.destroy();
  sns.destroy();
  return measured;
}

/** The raw pipeline at `inFlight` in flight: the broker-bound ceiling. */
async function ceiling(
  counting: CountingBroker,
  target: Target,
  processes: Processes,
  inFlight: number,
  step: ProgressStep,
): Promise<Measured> {
  const counts: Counts = new Map();
  const { sqs, sns } = counting.clients(counts);
  const client = new RawPipelineClient({
    sqs,
    sns,
    queueUrl: target.raw.replyQueue,
    sendTo: target.raw.requestAddress,
    polls: RAW_POLLS,
  });
  client.start();
  const measured = await measuredLoad({
    counts,
    server: processes.raw,
    brokerPid: processes.brokerPid,
    call: () => client.call(),
    inFlight,
    calls: callsAt(inFlight),
    warmUp: warmUpFor(callsAt(inFlight)),
    onCall: () => step.tick(),
    verbose: VERBOSE,
  });
  await client.close();
  sqs.destroy();
  sns.destroy();
  return measured;
}

/**
 * Single-client samples, taken in pairs so that both of a pair see the same machine: raw round
 * trips beside session calls (the latency ratio), then session calls beside 2026-07-28 calls.
 * Each pair runs in a random order: a call's trailing acknowledgements (its deletes) slow
 * whatever follows it, and a fixed order would always put the same kind after it.
 */
async function latency(counting: CountingBroker, target: Target, step: ProgressStep) {
  const { sqs, sns } = counting.clients(new Map());
  const session = await connect(target.clientTransport(sqs, sns, "session", 0), "session");
  const modern = await connect(target.clientTransport(sqs, sns, "modern", 1), "modern");
  const samples = {
    raw: [] as number[],
    session: [] as number[],
    sessionBesideModern: [] as number[],
    modern: [] as number[],
  };
  let warm = false;
  const timed = (client: AnyClient, into: number[]) => async () => {
    const started = performance.now();
    await echo(client, "call");
    if (warm) into.push(performance.now() - started);
  };
  const raw = async () => {
    const sample = await target.rawRoundTrip(sqs, sns);
    if (warm) samples.raw.push(sample);
  };
  const pairs = [
    [raw, timed(session, samples.session)],
    [timed(session, samples.sessionBesideModern), timed(modern, samples.modern)],
  ];
  for (const pair of pairs) {
    for (let i = 0; i < SEQUENTIAL_CALLS + WARM_UP; i++) {
      warm = i >= WARM_UP;
      for (const sampler of shuffled(pair)) await sampler();
      step.tick();
    }
  }
  await session.close();
  await modern.close();
  sqs.destroy();
  sns.destroy();
  return samples;
}

/**
 * tools/calls from the SDK's Streamable HTTP client through the proxy (in this process) to the
 * target's session server: what the proxy adds to a direct client of the same transport.
 */
async function proxiedLatency(
  counting: CountingBroker,
  target: Target,
  step: ProgressStep,
): Promise<number[]> {
  const { sqs, sns } = counting.clients(new Map());
  const proxy = new StreamableHttpProxy({
    backend: () => Promise.resolve(target.clientTransport(sqs, sns, "session", 0)),
    logger: silentLogger,
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, proxy.fetch);
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${http.addr.port}/mcp`)),
  );
  const samples: number[] = [];
  for (let i = 0; i < SEQUENTIAL_CALLS + WARM_UP; i++) {
    const started = performance.now();
    await client.callTool({ name: "echo", arguments: { text: `call ${i}` } });
    if (i >= WARM_UP) samples.push(performance.now() - started);
    step.tick();
  }
  await client.close();
  await proxy.close();
  await http.shutdown();
  sqs.destroy();
  sns.destroy();
  return samples;
}

/** Everything measured for one target. */
interface TargetResult {
  name: string;
  latency: { raw: number[]; session: number[]; sessionBesideModern: number[]; modern: number[] };
  proxied: number[];
  /** Per round at 256 in flight: the ceiling, session calls (shared and own reply queues), modern. */
  rounds: Array<{ ceiling: Measured; shared: Measured; own: Measured; modern: Measured }>;
  /** The sweep at each level (256: the median round's shared figures). */
  sweep: Map<number, LoadFigures>;
  /** The idle server's requests per minute (from the spacing of its requests), and for how long. */
  idle: { requestsPerMinute?: number; requests: number; minutes: number };
  memory?: { heapPerSession: number; rssPerSession: number; sessions: number };
}

/** The median round by one figure (for the shared session load: calls per second). */
function medianRound<T>(values: T[], by: (value: T) => number): T {
  const sorted = [...values].sort((a, b) => by(a) - by(b));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

async function runTarget(counting: CountingBroker, target: Target): Promise<TargetResult> {
  const { broker } = counting;
  const name = target.name;
  const starting = progress.step(`${name}: the server processes`);
  const config = (kind: ServerProcessConfig["kind"], queueUrl: string, sendTo?: string) => ({
    transport: target.transport,
    endpoint: broker.endpoint,
    queueUrl,
    kind,
    sendTo,
    ...(kind === "raw"
      ? { pollers: RAW_POLLS }
      : SERVER_POLLERS
      ? { pollers: Number(SERVER_POLLERS) }
      : {}),
    options: kind === "raw" ? undefined : SERVER_OPTIONS,
  } satisfies ServerProcessConfig);
  const profile = { profileDir: PROFILE_DIR };
  const [session, modern, raw, idle] = await Promise.all([
    startServerProcess(config("v1", target.serverQueue.session), profile),
    startServerProcess(config("v2", target.serverQueue.modern), profile),
    startServerProcess(config("raw", target.raw.serverQueue, target.raw.replyAddress)),
    startServerProcess(config("v1", target.serverQueue.idle)),
  ]);
  const idleSince = performance.now();
  await idle.reset();
  const processes: Processes = {
    session,
    modern,
    raw,
    brokerPid: broker.embedded ? childPid("fauxqs_main") : undefined,
  };
  starting.done();

  let step = progress.step(
    `${name}: session calls beside raw round trips, then beside ${MODERN} calls`,
    2 * (SEQUENTIAL_CALLS + WARM_UP),
  );
  const latencies = await latency(counting, target, step);
  step.done(
    `session ${ms(percentile(latencies.session, 0.5))} (raw ${
      ms(percentile(latencies.raw, 0.5))
    }), ${MODERN} ${ms(percentile(latencies.modern, 0.5))} (session ${
      ms(percentile(latencies.sessionBesideModern, 0.5))
    })`,
  );
  step = progress.step(`${name}: tools/calls through the proxy`, SEQUENTIAL_CALLS + WARM_UP);
  const proxied = await proxiedLatency(counting, target, step);
  step.done(`median ${ms(percentile(proxied, 0.5))}`);

  const shared: Channel[] = Array.from({ length: LOAD_CLIENTS }, () => "shared");
  const own: Channel[] = Array.from({ length: LOAD_CLIENTS }, (_, i) => i);
  const sweep = new Map<number, LoadFigures>();
  for (const level of LEVELS.filter((level) => level !== IN_FLIGHT)) {
    const clients = shared.slice(0, Math.min(level, LOAD_CLIENTS));
    step = progress.step(
      `${name}: load, ${level} in flight over ${clients.length} clients`,
      warmUpFor(callsAt(level)) + callsAt(level),
    );
    const figures = await clientLoad(counting, target, processes, "session", clients, level, step);
    sweep.set(level, figures);
    step.done(`${perSecond(figures.callsPerSecond)}, p50 ${ms(figures.p50)}`);
  }
  const rounds: TargetResult["rounds"] = [];
  const total = warmUpFor(callsAt(IN_FLIGHT)) + callsAt(IN_FLIGHT);
  for (let round = 1; round <= ROUNDS; round++) {
    const of = ROUNDS > 1 ? ` (round ${round} of ${ROUNDS})` : "";
    /** One load at IN_FLIGHT, shown as a step that ends with its rate. */
    const measured = async (label: string, run: (step: ProgressStep) => Promise<Measured>) => {
      const loadStep = progress.step(`${name}: ${label}${of}`, total);
      const figures = await run(loadStep);
      loadStep.done(perSecond(figures.callsPerSecond));
      return figures;
    };
    const load = (role: "session" | "modern", channels: Channel[]) => (step: ProgressStep) =>
      clientLoad(counting, target, processes, role, channels, IN_FLIGHT, step);
    const rawFigures = await measured(
      `raw pipeline, ${IN_FLIGHT} in flight`,
      (step) => ceiling(counting, target, processes, IN_FLIGHT, step),
    );
    const sharedFigures = await measured("load, one shared reply queue", load("session", shared));
    const ownFigures = await measured("load, a reply queue each", load("session", own));
    const modernFigures = await measured(
      `load, ${MODERN}, one shared reply queue`,
      load("modern", shared),
    );
    rounds.push({
      ceiling: rawFigures,
      shared: sharedFigures,
      own: ownFigures,
      modern: modernFigures,
    });
  }
  sweep.set(IN_FLIGHT, medianRound(rounds.map((r) => r.shared), (m) => m.callsPerSecond));

  let memory: TargetResult["memory"];
  if (target.transport === "sqs") {
    step = progress.step(`${name}: ${SESSIONS} idle sessions`, SESSIONS);
    memory = await sessionMemory(counting, step);
    step.done(
      `${(memory.heapPerSession / 1024).toFixed(1)} KiB heap, ${
        (memory.rssPerSession / 1024).toFixed(1)
      } KiB RSS per session`,
    );
  }
  const minutes = (performance.now() - idleSince) / 60_000;
  const idleReport = await idle.report();
  const idleRequests = sum(idleReport.counts);
  const { firstRequestAt: first, lastRequestAt: last } = idleReport;
  await Promise.all([session, modern, raw, idle].map((server) => server.stop()));
  return {
    name,
    latency: latencies,
    proxied,
    rounds,
    sweep,
    idle: {
      // Spacing, not a count over the window: a window holds a whole number of 20 s polls.
      requestsPerMinute: idleRequests >= 2 && first !== undefined && last !== undefined
        ? (idleRequests - 1) / ((last - first) / 60_000)
        : undefined,
      requests: idleRequests,
      minutes,
    },
    memory,
  };
}

/** Heap and RSS per idle 2025 session, from a server process holding `SESSIONS` of them. */
async function sessionMemory(counting: CountingBroker, step: ProgressStep) {
  const { broker } = counting;
  const setup = broker.sqsClient();
  const run = crypto.randomUUID().slice(0, 8);
  const requests = await ensureQueue(setup, `bench-memory-${run}`);
  const replies = await ensureQueue(setup, `bench-memory-replies-${run}`);
  setup.destroy();
  const server = await startServerProcess({
    transport: "sqs",
    endpoint: broker.endpoint,
    queueUrl: requests.url,
    kind: "v1",
    options: { maxSessions: SESSIONS + 1000, idleTimeoutMs: 3_600_000 },
  });
  const { sqs } = counting.clients(new Map());
  const open = (count: number, first: number, onOpened?: () => void) =>
    openIdleSessions({
      sqs,
      requestQueueUrl: requests.url,
      responseQueueUrl: replies.url,
      count,
      clientIdPrefix: `memory-${first}-`,
      onOpened,
    });
  // The first sessions load what every session uses; the baseline is taken after them.
  const warm = Math.min(100, SESSIONS);
  await open(warm, 0);
  const before = await server.memory();
  await open(SESSIONS, warm, () => step.tick());
  const after = await server.memory();
  const { sessions } = await server.report();
  if (sessions !== warm + SESSIONS) {
    throw new Error(`The memory server holds ${sessions} sessions, not ${warm + SESSIONS}`);
  }
  await server.stop();
  sqs.destroy();
  return {
    heapPerSession: (after.heapUsed - before.heapUsed) / SESSIONS,
    rssPerSession: (after.rss - before.rss) / SESSIONS,
    sessions,
  };
}

function verdict(met: boolean, text: string): string {
  verdicts.push({ met, text });
  return met ? "met" : "missed";
}

/** SQS and SNS+SQS: latency against raw broker round trips, costs and throughput under load. */
async function brokerSection(): Promise<void> {
  const broker = await startBroker({ childProcess: true });
  const counting = new CountingBroker(broker);
  const setup = broker.sqsClient();
  const setupSns = broker.snsClient();
  const run = crypto.randomUUID().slice(0, 8);
  const channels = LOAD_CLIENTS;
  const results: TargetResult[] = [];
  for (const makeTarget of [sqsTarget, snsTarget]) {
    const target = makeTarget === sqsTarget
      ? await sqsTarget(setup, run, channels, CLIENT_OPTIONS)
      : await snsTarget(setup, setupSns, run, channels, CLIENT_OPTIONS);
    results.push(await runTarget(counting, target));
  }
  setup.destroy();
  setupSns.destroy();
  await broker.close();
  printBrokerTables(broker, results);
}

function printBrokerTables(broker: Broker, results: TargetResult[]): void {
  const names = results.map((r) => r.name);
  const med = (values: number[]) => median(values);
  /** The median over rounds, with the range when there were several. */
  const over = (pick: (round: TargetResult["rounds"][number]) => number, digits = 0) =>
    results.map((r) => {
      const values = r.rounds.map(pick);
      const text = med(values).toFixed(digits);
      return values.length > 1
        ? `${text} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`
        : text;
    });
  report.line(
    `broker: ${broker.embedded ? "embedded fauxqs (own process)" : broker.endpoint}; ` +
      `Deno ${Deno.version.deno}; ${navigator.hardwareConcurrency} cores; ` +
      `${SEQUENTIAL_CALLS} sequential calls, ${
        callsAt(IN_FLIGHT)
      } calls at ${IN_FLIGHT} in flight` +
      `${ROUNDS > 1 ? ` (medians of ${ROUNDS} rounds, ranges in brackets)` : ""}` +
      `${QUICK ? " (BENCH_QUICK: rough figures)" : ""}; long polls ` +
      `per queue: server ${SERVER_POLLERS ?? "adaptive, default most"}, clients ` +
      `${CLIENT_POLLERS ?? "adaptive, default most"}, raw pipeline ${RAW_POLLS}`,
  );
  report.table(["measure", ...names, "target"]);
  const p = (samples: number[], q: number) => percentile(samples, q);
  report.row(
    "raw broker round trip (send → long-polling receiver), median",
    results.map((r) => ms(p(r.latency.raw, 0.5))),
  );
  report.row(
    "tools/call, 1 client, median / p99",
    results.map((r) => `${ms(p(r.latency.session, 0.5))} / ${ms(p(r.latency.session, 0.99))}`),
  );
  const ratios = results.map((r) => p(r.latency.session, 0.5) / (2 * p(r.latency.raw, 0.5)));
  report.row(
    "tools/call median ÷ (2 × raw median)",
    ratios.map((ratio, i) =>
      `${ratio.toFixed(2)} (${
        verdict(ratio <= 1.25, `${names[i]}: latency ratio ${ratio.toFixed(2)} ≤ 1.25`)
      })`
    ),
    "≤ 1.25",
  );
  report.row(
    `${MODERN} tools/call (SDK v2 client and server, no session), 1 client, median / p99 ` +
      "(session calls sampled beside them)",
    results.map((r) => {
      const modern = p(r.latency.modern, 0.5);
      const session = p(r.latency.sessionBesideModern, 0.5);
      return `${ms(modern)} / ${ms(p(r.latency.modern, 0.99))} (${ms(session)} / ${
        ms(p(r.latency.sessionBesideModern, 0.99))
      }; ${
        verdict(
          modern <= session,
          `${r.name}: ${MODERN} median ${ms(modern)} ≤ session median ${ms(session)}`,
        )
      })`;
    }),
    "≤ session",
  );
  report.row(
    "tools/call through the proxy (Streamable HTTP client → proxy → transport), median",
    results.map((r) => ms(p(r.proxied, 0.5))),
  );
  report.row(
    "proxy overhead (median through the proxy − direct median)",
    results.map((r) => ms(p(r.proxied, 0.5) - p(r.latency.session, 0.5))),
  );
  const minimum: Record<string, number> = { SQS: 3000, "SNS+SQS": 2000 };
  report.row(
    `raw pipeline (the broker work of tools/call, no MCP, ${RAW_POLLS} long polls per queue), ` +
      `calls/s at ${IN_FLIGHT} in flight: the ceiling`,
    over((round) => round.ceiling.callsPerSecond),
  );
  report.row(
    `tools/call/s, ${IN_FLIGHT} in flight over ${LOAD_CLIENTS} clients, one shared reply queue`,
    results.map((r, i) => {
      const real = med(r.rounds.map((round) => round.shared.callsPerSecond));
      const top = med(r.rounds.map((round) => round.ceiling.callsPerSecond));
      const met = real >= minimum[r.name] || real * 1.2 >= top;
      return `${over((round) => round.shared.callsPerSecond)[i]} (${
        verdict(
          met,
          `${r.name}: ${Math.round(real)} calls/s ≥ ${minimum[r.name]}, or ≥ ceiling ${
            Math.round(top)
          } ÷ 1.2`,
        )
      })`;
    }),
    "≥ 3,000 (SQS), ≥ 2,000 (SNS+SQS), or ≥ ceiling ÷ 1.2",
  );
  report.row(
    "tools/call/s ÷ ceiling",
    results.map((r) =>
      (med(r.rounds.map((round) => round.shared.callsPerSecond)) /
        med(r.rounds.map((round) => round.ceiling.callsPerSecond))).toFixed(2)
    ),
    "≥ 0.83",
  );
  report.row(
    "AWS API requests per tools/call at that load (raw pipeline)",
    results.map((r, i) =>
      `${over((round) => round.shared.requestsPerCall, 2)[i]} (${
        med(r.rounds.map((round) => round.ceiling.requestsPerCall)).toFixed(2)
      })`
    ),
    "≤ 1.0",
  );
  report.row(
    "CPU per tools/call at that load: clients' process / server process / broker",
    results.map((r) => {
      const m = medianRound(r.rounds.map((round) => round.shared), (x) => x.callsPerSecond).cpu;
      return `${m.clients.toFixed(2)} / ${m.server.toFixed(2)} / ${m.broker?.toFixed(2) ?? "–"} ms`;
    }),
  );
  report.row(
    `tools/call/s, ${IN_FLIGHT} in flight over ${LOAD_CLIENTS} clients, a reply queue each`,
    over((round) => round.own.callsPerSecond),
  );
  report.row(
    "AWS API requests per tools/call at that load",
    results.map((r, i) => {
      const perCall = med(r.rounds.map((round) => round.own.requestsPerCall));
      return `${over((round) => round.own.requestsPerCall, 2)[i]} (${
        verdict(
          perCall <= 1,
          `${r.name}: ${perCall.toFixed(2)} requests per call ≤ 1.0, a reply queue each`,
        )
      })`;
    }),
    "≤ 1.0",
  );
  /** The modern load's figure beside the session load's (one shared reply queue), judged. */
  const besideSession = (
    figure: (round: Measured) => number,
    digits: number,
    better: "higher" | "lower",
    what: string,
  ) =>
    results.map((r, i) => {
      const modern = med(r.rounds.map((round) => figure(round.modern)));
      const session = med(r.rounds.map((round) => figure(round.shared)));
      const met = better === "higher" ? modern >= session : modern <= session;
      return `${over((round) => figure(round.modern), digits)[i]} (${
        verdict(
          met,
          `${r.name}: ${MODERN} ${what} ${modern.toFixed(digits)} ${
            better === "higher" ? "≥" : "≤"
          } session ${session.toFixed(digits)}`,
        )
      })`;
    });
  report.row(
    `${MODERN} tools/call/s, ${IN_FLIGHT} in flight over ${LOAD_CLIENTS} clients, one shared reply queue`,
    besideSession((round) => round.callsPerSecond, 0, "higher", "calls/s"),
    "≥ session",
  );
  report.row(
    `${MODERN}: AWS API requests per tools/call at that load`,
    besideSession((round) => round.requestsPerCall, 2, "lower", "requests per call"),
    "≤ session",
  );
  report.row(
    `${MODERN}: CPU per tools/call at that load: clients' process / server process`,
    results.map((r) => {
      const m = medianRound(r.rounds.map((round) => round.modern), (x) => x.callsPerSecond).cpu;
      return `${m.clients.toFixed(2)} / ${m.server.toFixed(2)} ms`;
    }),
  );
  report.row(
    "idle server: AWS API requests per minute (one long poll)",
    results.map(({ name, idle }) => {
      const over = `${idle.requests} requests in ${idle.minutes.toFixed(1)} min`;
      if (idle.requestsPerMinute === undefined) return `– (${over}: too few to tell)`;
      const rate = idle.requestsPerMinute.toFixed(1);
      const met = verdict(
        idle.requestsPerMinute <= 3,
        `${name}: ${rate} idle requests per minute ≤ 3`,
      );
      return `${rate} (${met}; ${over})`;
    }),
    "≤ 3",
  );
  report.row(
    `memory per idle 2025 session at ${SESSIONS} sessions, heap / RSS`,
    results.map((r) => {
      if (!r.memory) return "(as SQS)";
      const heap = r.memory.heapPerSession / 1024;
      const rss = r.memory.rssPerSession / 1024;
      // RSS grows in large steps: a few hundred sessions cannot show their share of it.
      if (SESSIONS < 10_000) {
        return `${heap.toFixed(1)} / ${rss.toFixed(1)} KiB (judged at 10,000 sessions only)`;
      }
      return `${heap.toFixed(1)} / ${rss.toFixed(1)} KiB (${
        verdict(
          heap <= 50 && rss <= 50,
          `memory per session ${heap.toFixed(1)} / ${rss.toFixed(1)} KiB ≤ 50`,
        )
      })`;
    }),
    "≤ 50 KiB",
  );

  report.line(
    `\nSession calls (SDK v1 client and server) at each load, over up to ${LOAD_CLIENTS} clients ` +
      `on one shared reply queue:`,
  );
  report.table([
    "calls in flight",
    ...names.flatMap((name) => [`${name} calls/s`, `${name} p50`, `${name} p99`]),
    "target",
  ]);
  for (const level of LEVELS) {
    report.row(
      String(level),
      results.flatMap((r) => {
        const figures = r.sweep.get(level)!;
        return [String(Math.round(figures.callsPerSecond)), ms(figures.p50), ms(figures.p99)];
      }),
    );
  }
}

if (ONLY !== "http") await brokerSection();
if (ONLY !== "broker") {
  await httpSection(progress, report, {
    calls: SEQUENTIAL_CALLS,
    warmUp: WARM_UP,
    loadCalls: HTTP_LOAD_CALLS,
    inFlight: IN_FLIGHT,
    clients: LOAD_CLIENTS,
  });
}
console.log(report.text());
if (verdicts.length > 0) {
  console.log("\nTargets:");
  for (const { met, text } of verdicts) console.log(`- ${met ? "met" : "MISSED"}: ${text}`);
}
if (STRICT && verdicts.some((v) => !v.met)) Deno.exit(1);

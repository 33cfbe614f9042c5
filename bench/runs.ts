/**
 * What every broker measurement shares: clients whose API requests are counted, MCP clients of
 * either SDK line, and a load run that reports its costs (requests and CPU per call, per process).
 *
 * @module
 */

import type { SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import process from "node:process";
import type { Broker } from "../examples/embedded_broker.ts";
import { Client, type Transport } from "../sdk.ts";
import { Client as ClientV2 } from "../sdk_v2.ts";
import type { ClientTransport } from "../session/client_transport.ts";
import { countFetchRequests } from "./fetch_counter.ts";
import { type LoadFigures, runLoad } from "./load.ts";
import type { ServerHandle } from "./server_control.ts";
import { processCpuMs } from "./stats.ts";

/** API requests by command name. */
export type Counts = Map<string, number>;

/** The MCP revision that has no sessions. */
export const MODERN = "2026-07-28";

/**
 * The total of `counts`.
 *
 * @example
 * ```ts
 * import { sum } from "./runs.ts";
 *
 * console.log(sum({ SendMessageBatchCommand: 2, ReceiveMessageCommand: 3 })); // 5
 * ```
 */
export function sum(counts: Counts | Record<string, number>): number {
  return [...(counts instanceof Map ? counts.values() : Object.values(counts))]
    .reduce((total, value) => total + value, 0);
}

/**
 * Builds clients for a broker whose API requests, through the SDK or the fetch path, are counted.
 *
 * @example
 * ```ts ignore
 * const counting = new CountingBroker(broker);
 * const counts = new Map();
 * const { sqs, sns } = counting.clients(counts);
 * ```
 */
export class CountingBroker {
  readonly broker: Broker;
  /** Where this process's fetch-path requests are counted: the counts of the newest clients. */
  #fetchCounts: Counts = new Map();

  /** Counts the fetch path's requests to `broker` from now on (wraps `globalThis.fetch`). */
  constructor(broker: Broker) {
    this.broker = broker;
    countFetchRequests(
      broker.endpoint,
      (name) => this.#fetchCounts.set(name, (this.#fetchCounts.get(name) ?? 0) + 1),
    );
  }

  /** New SQS and SNS clients counting into `counts` (the fetch path too, until the next call). */
  clients(counts: Counts): { sqs: SQSClient; sns: SNSClient } {
    this.#fetchCounts = counts;
    const count = (name = "unknown") => counts.set(name, (counts.get(name) ?? 0) + 1);
    const sqs = this.broker.sqsClient();
    const sns = this.broker.snsClient();
    for (const client of [sqs, sns] as SQSClient[]) {
      client.middlewareStack.add((next, context) => (args) => {
        count(context.commandName);
        return next(args);
      }, { step: "initialize", name: "asyncmcpBenchCounter" });
    }
    return { sqs, sns };
  }
}

/** An MCP client of either SDK line, as far as the benchmark uses it. */
export interface AnyClient {
  /** Calls a tool. */
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  /** Closes the client and its transport. */
  close(): Promise<void>;
}

/**
 * Connects a v1 client (a 2025 session) or, for `modern`, a v2 client in `auto` mode, which must
 * settle on 2026-07-28.
 *
 * @throws {Error} when the v2 client settles on another revision.
 *
 * @example
 * ```ts ignore
 * const client = await connect(new SqsClientTransport({ sqs, requestQueueUrl, responseQueueUrl }), "session");
 * ```
 */
export async function connect(
  transport: ClientTransport,
  era: "session" | "modern",
): Promise<AnyClient> {
  if (era === "modern") {
    const client = new ClientV2({ name: "bench", version: "1.0.0" }, {
      versionNegotiation: { mode: "auto" },
    });
    await client.connect(transport);
    if (transport.protocolVersion !== MODERN) {
      throw new Error(`The v2 client settled on ${transport.protocolVersion}, not ${MODERN}`);
    }
    return client;
  }
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(transport as Transport);
  return client;
}

/**
 * One call of the example server's `echo` tool.
 *
 * @example
 * ```ts ignore
 * await echo(client, "hello");
 * ```
 */
export function echo(client: AnyClient, text: string): Promise<unknown> {
  return client.callTool({ name: "echo", arguments: { text } });
}

/** What one load run measured, costs included. */
export interface Measured extends LoadFigures {
  /** AWS API requests of the clients and the server per call. */
  requestsPerCall: number;
  /** CPU per call in ms, per process; broker undefined when it is not ours to read. */
  cpu: { clients: number; server: number; broker?: number };
  /** Requests sent after the last call had its answer: acknowledgements that were behind. */
  trailingRequests: number;
}

/** What {@linkcode measuredLoad} runs and counts. */
export interface MeasuredLoadOptions {
  /** Where the clients' requests are counted (see {@linkcode CountingBroker}). */
  counts: Counts;
  /** The server process answering the calls. */
  server: ServerHandle;
  /** The broker's process, when its CPU time can be read. */
  brokerPid?: number;
  /** Makes one call; `worker` from 0 to `inFlight - 1`. */
  call: (worker: number) => Promise<unknown>;
  inFlight: number;
  /** Measured calls. */
  calls: number;
  /** Calls before the measured ones. */
  warmUp: number;
  /** Told of every call, warm-up included. */
  onCall?: () => void;
  /** Print the request counts on standard error. */
  verbose?: boolean;
}

/**
 * Waits until no API request has been counted for 50 ms (acknowledgements still on their way
 * after the last answer), at most 3 s.
 */
async function settle(counts: Counts, server: ServerHandle): Promise<void> {
  let last = -1;
  for (let waited = 0; waited < 3000; waited += 50) {
    const now = sum(counts) + sum((await server.report()).counts);
    if (now === last) return;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Warms up, then runs the calls, counting what they cost: API requests until every
 * acknowledgement has gone out, CPU of this process, the server's and the broker's.
 *
 * @example
 * ```ts ignore
 * const measured = await measuredLoad({ counts, server, call: () => echo(client, "x"), inFlight: 256, calls: 20_000, warmUp: 2000 });
 * ```
 */
export async function measuredLoad(options: MeasuredLoadOptions): Promise<Measured> {
  const { counts, server, brokerPid, call, inFlight, calls } = options;
  await runLoad(call, inFlight, options.warmUp, options.onCall);
  await settle(counts, server);
  counts.clear();
  await server.reset();
  const cpuSince = process.cpuUsage();
  const brokerSince = brokerPid ? processCpuMs(brokerPid) : undefined;
  const figures = await runLoad(call, inFlight, calls, options.onCall);
  const { user, system } = process.cpuUsage(cpuSince);
  const brokerNow = brokerPid ? processCpuMs(brokerPid) : undefined;
  const { cpuMs, counts: serverCountsAtEnd } = await server.report();
  const atEnd = sum(counts) + sum(serverCountsAtEnd);
  await settle(counts, server);
  const { counts: serverCounts } = await server.report();
  if (options.verbose) console.error({ client: counts, server: serverCounts });
  return {
    ...figures,
    requestsPerCall: (sum(counts) + sum(serverCounts)) / calls,
    trailingRequests: sum(counts) + sum(serverCounts) - atEnd,
    cpu: {
      clients: (user + system) / 1000 / calls,
      server: cpuMs / calls,
      broker: brokerSince === undefined || brokerNow === undefined
        ? undefined
        : (brokerNow - brokerSince) / calls,
    },
  };
}

/**
 * Calls under load: a fixed number of calls in flight, each replaced by the next as it ends.
 *
 * @module
 */

import { percentile } from "./stats.ts";

/** Throughput and latency of one load run. */
export interface LoadFigures {
  /** Calls completed per second. */
  callsPerSecond: number;
  /** Median latency of a call, in ms. */
  p50: number;
  /** 99th percentile latency, in ms. */
  p99: number;
}

/**
 * Runs `calls` calls with `inFlight` of them running at any time; `call(worker)` makes one,
 * `worker` from 0 to `inFlight - 1` (to spread workers over clients). `onCall` is told of each
 * completed call.
 *
 * @example
 * ```ts
 * import { runLoad } from "./load.ts";
 *
 * const figures = await runLoad(() => Promise.resolve(), 4, 100);
 * console.log(figures.callsPerSecond > 0);
 * ```
 */
export async function runLoad(
  call: (worker: number) => Promise<unknown>,
  inFlight: number,
  calls: number,
  onCall?: () => void,
): Promise<LoadFigures> {
  let issued = 0;
  const latencies: number[] = [];
  const worker = async (index: number) => {
    while (issued < calls) {
      issued++;
      const started = performance.now();
      await call(index);
      latencies.push(performance.now() - started);
      onCall?.();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, (_, index) => worker(index)));
  return {
    callsPerSecond: calls / ((performance.now() - started) / 1000),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

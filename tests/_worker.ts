/**
 * Server workers in processes of their own, for tests of what happens across processes: a
 * script started with the broker's environment, whose printed lines the test can wait for.
 *
 * @module
 */

import { type BrokerContext, brokerEnv } from "./_fixture.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** A running worker process. */
export interface Worker {
  /** Resolves once the worker printed `line`; rejects if it exits first. */
  printed(line: string): Promise<void>;
  /** Every line it printed so far. */
  readonly lines: readonly string[];
  /** SIGKILL: no close(), nothing handed back. Also run when the test ends. */
  kill(): Promise<void>;
}

/** Starts `script` (a path beside this file) with `args`, ended when the test ends. */
export function spawnWorker(context: BrokerContext, script: string, args: string[]): Worker {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--unstable-kv",
      "--config",
      CONFIG,
      new URL(script, import.meta.url).pathname,
      ...args,
    ],
    env: brokerEnv(context),
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  const reading = (async () => {
    const decoded = child.stdout.pipeThrough(new TextDecoderStream());
    let text = "";
    for await (const chunk of decoded) {
      text += chunk;
      const complete = text.split("\n");
      text = complete.pop()!;
      lines.push(...complete);
      for (const wake of waiters.splice(0)) wake();
    }
    for (const wake of waiters.splice(0)) wake();
  })();
  let ended = false;
  const end = async () => {
    if (!ended) child.kill("SIGKILL");
    ended = true;
    await child.status;
    await reading;
  };
  context.cleanup(end);
  return {
    lines,
    async printed(line: string): Promise<void> {
      while (!lines.includes(line)) {
        if (ended) throw new Error(`The worker ended before it printed ${line}`);
        const { promise, resolve } = Promise.withResolvers<void>();
        waiters.push(resolve);
        await Promise.race([promise, child.status.then(() => ended = true)]);
      }
    },
    kill: end,
  };
}

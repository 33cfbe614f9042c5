/**
 * Starts a benchmark server process (`server_process.ts`) and talks to it over its standard
 * input and output.
 *
 * @module
 */

import type { ServerMemory, ServerProcessConfig, ServerReport } from "./server_process.ts";

/** A running server process. */
export interface ServerHandle {
  /** Its process id. */
  pid: number;
  /** Zeroes its request counts and CPU time. */
  reset(): Promise<void>;
  /** Its request counts, CPU time and sessions since the last reset. */
  report(): Promise<ServerReport>;
  /** Its heap and resident set size after collecting garbage. */
  memory(): Promise<ServerMemory>;
  /** Ends it (at end of its input) and waits for it. */
  stop(): Promise<void>;
}

/** Options for {@linkcode startServerProcess}. */
export interface StartServerOptions {
  /** Write the process's CPU profile into this directory. */
  profileDir?: string;
  /** Another server script taking the same argument (an older copy, for comparisons). */
  script?: string;
}

/**
 * Starts a server process and waits until it reads its queue.
 *
 * @example
 * ```ts ignore
 * const server = await startServerProcess({ transport: "sqs", endpoint, queueUrl, kind: "v1" });
 * console.log((await server.report()).cpuMs);
 * await server.stop();
 * ```
 */
export async function startServerProcess(
  config: ServerProcessConfig,
  options: StartServerOptions = {},
): Promise<ServerHandle> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--v8-flags=--expose-gc",
      ...(options.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}`] : []),
      options.script ?? new URL("./server_process.ts", import.meta.url).pathname,
      JSON.stringify(config),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const writer = child.stdin.getWriter();
  let buffered = "";
  const nextLine = async () => {
    while (!buffered.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("Benchmark server process ended unexpectedly");
      buffered += value;
    }
    const line = buffered.slice(0, buffered.indexOf("\n"));
    buffered = buffered.slice(line.length + 1);
    return line;
  };
  await nextLine(); // "ready"
  const say = (text: string) => writer.write(new TextEncoder().encode(text + "\n"));
  return {
    pid: child.pid,
    reset: () => say("reset"),
    async report() {
      await say("report");
      return JSON.parse(await nextLine());
    },
    async memory() {
      await say("memory");
      return JSON.parse(await nextLine());
    },
    async stop() {
      await writer.close();
      await lines.cancel();
      await child.status;
    },
  };
}

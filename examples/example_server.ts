/**
 * The example MCP server used by the demo, the benchmark and the tests: a quick tool and a
 * long-running tool that reports progress.
 *
 * @module
 */

import { z } from "zod";
import { McpServer } from "../sdk.ts";

/** Options for {@linkcode createExampleServer}. */
export interface ExampleServerOptions {
  /** Milliseconds between the progress steps of `slow_count`. @default {100} */
  stepMs?: number;
}

/**
 * Builds a fresh example server: `echo` answers at once, `slow_count` counts to `to` one step at a
 * time, reporting progress, and stops when the caller cancels.
 *
 * @example
 * ```ts ignore
 * const server = createExampleServer({ stepMs: 10 });
 * ```
 */
export function createExampleServer(options: ExampleServerOptions = {}): McpServer {
  const stepMs = options.stepMs ?? 100;
  const server = new McpServer({ name: "asyncmcp-example", version: "1.0.0" });
  server.registerTool(
    "echo",
    {
      description: "Returns its text at once.",
      inputSchema: { text: z.string() },
    },
    ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  server.registerTool(
    "slow_count",
    {
      description: "Counts to `to`, one step at a time, reporting progress after each step.",
      inputSchema: { to: z.number().int().min(1).max(1000) },
    },
    async ({ to }, extra) => {
      for (let step = 1; step <= to; step++) {
        await delay(stepMs, extra.signal);
        const progressToken = extra._meta?.progressToken;
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken, progress: step, total: to, message: `step ${step} of ${to}` },
          });
        }
      }
      return { content: [{ type: "text", text: `counted to ${to}` }] };
    },
  );
  return server;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The example MCP server used by the demo, the benchmark and the tests: a quick tool and a
 * long-running tool that reports progress, on either SDK line (v2 serves both MCP eras, v1 the
 * 2025-11-25 sessions only).
 *
 * @module
 */

import { z } from "zod";
import { McpServer } from "../sdk.ts";
import { McpServer as McpServerV2 } from "../sdk_v2.ts";

/** Options for {@linkcode createExampleServer}. */
export interface ExampleServerOptions {
  /** Milliseconds between the progress steps of `slow_count`. @default {100} */
  stepMs?: number;
}

const INFO = { name: "asyncmcp-example", version: "1.0.0" };
const ECHO = { description: "Returns its text at once." };
const SLOW_COUNT = {
  description: "Counts to `to`, one step at a time, reporting progress after each step.",
};
const toSchema = z.number().int().min(1).max(1000);
// Built once, not per server: a zod schema compiles its parser on first use, and SDK v2 builds a
// server per 2026-07-28 request (compiling per request took about half of its CPU time).
const ECHO_INPUT = z.object({ text: z.string() });
const SLOW_COUNT_INPUT = z.object({ to: toSchema });

/**
 * Builds a fresh example server on SDK v1: `echo` answers at once, `slow_count` counts to `to`
 * one step at a time, reporting progress, and stops when the caller cancels.
 *
 * @example
 * ```ts ignore
 * const server = createExampleServer({ stepMs: 10 });
 * ```
 */
export function createExampleServer(options: ExampleServerOptions = {}): McpServer {
  const server = new McpServer(INFO);
  server.registerTool(
    "echo",
    { ...ECHO, inputSchema: { text: z.string() } },
    ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  server.registerTool(
    "slow_count",
    { ...SLOW_COUNT, inputSchema: { to: toSchema } },
    async ({ to }, extra) => ({
      content: [{
        type: "text",
        text: await slowCount(
          to,
          options.stepMs,
          extra.signal,
          (params) =>
            extra._meta?.progressToken === undefined ? Promise.resolve() : extra.sendNotification({
              method: "notifications/progress",
              params: { progressToken: extra._meta.progressToken, ...params },
            }),
        ),
      }],
    }),
  );
  return server;
}

/**
 * The same example server on SDK v2, which serves 2025-11-25 sessions and stateless 2026-07-28
 * requests alike.
 *
 * @example
 * ```ts ignore
 * const server = createExampleServerV2({ stepMs: 10 });
 * ```
 */
export function createExampleServerV2(options: ExampleServerOptions = {}): McpServerV2 {
  const server = new McpServerV2(INFO);
  server.registerTool(
    "echo",
    { ...ECHO, inputSchema: ECHO_INPUT },
    ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  server.registerTool(
    "slow_count",
    { ...SLOW_COUNT, inputSchema: SLOW_COUNT_INPUT },
    async ({ to }, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      return {
        content: [{
          type: "text",
          text: await slowCount(
            to,
            options.stepMs,
            ctx.mcpReq.signal,
            (params) =>
              progressToken === undefined ? Promise.resolve() : ctx.mcpReq.notify({
                method: "notifications/progress",
                params: { progressToken, ...params },
              }),
          ),
        }],
      };
    },
  );
  return server;
}

/** What `slow_count` reports after each step. */
interface Step {
  progress: number;
  total: number;
  message: string;
}

/** Counts to `to`, `stepMs` per step, reporting each step; ends early when `signal` aborts. */
async function slowCount(
  to: number,
  stepMs = 100,
  signal: AbortSignal,
  report: (step: Step) => Promise<void>,
): Promise<string> {
  for (let step = 1; step <= to; step++) {
    await delay(stepMs, signal);
    await report({ progress: step, total: to, message: `step ${step} of ${to}` });
  }
  return `counted to ${to}`;
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

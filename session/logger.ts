/**
 * Structured logging that stays quiet unless something needs attention.
 *
 * @module
 */

/** How serious a log event is, from chatty to urgent. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Facts attached to a log event; kept flat so that log pipelines can index them. */
export type LogFields = Record<string, unknown>;

/**
 * Where asyncmcp reports what it does. Every call names an event (a stable, dotted identifier such
 * as `session.created`) and its facts, never a preformatted sentence.
 *
 * @example Forward events to your own logger
 * ```ts
 * import type { Logger } from "@asyncmcp/asyncmcp";
 *
 * const logger: Logger = {
 *   log(level, event, fields) {
 *     if (level !== "debug") console.log(JSON.stringify({ level, event, ...fields }));
 *   },
 * };
 * ```
 */
export interface Logger {
  /** Records one event. Must not throw. */
  log(level: LogLevel, event: string, fields: LogFields): void;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Options for {@linkcode consoleLogger}. */
export interface ConsoleLoggerOptions {
  /** Events below this level are dropped. @default {"warn"} */
  level?: LogLevel;
}

/**
 * A logger that writes one JSON object per line to standard error. The default of every
 * asyncmcp component, at level `warn`, so a healthy process prints nothing.
 *
 * @example Show everything while developing
 * ```ts
 * import { consoleLogger } from "@asyncmcp/asyncmcp";
 *
 * const logger = consoleLogger({ level: "debug" });
 * logger.log("info", "demo.started", { transport: "sqs" });
 * ```
 */
export function consoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const threshold = LEVEL_RANK[options.level ?? "warn"];
  return {
    log(level, event, fields) {
      if (LEVEL_RANK[level] < threshold) return;
      console.error(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }));
    },
  };
}

/**
 * A logger that drops everything.
 *
 * @example Silence a component
 * ```ts
 * import { silentLogger } from "@asyncmcp/asyncmcp";
 *
 * silentLogger.log("error", "never.printed", {});
 * ```
 */
export const silentLogger: Logger = { log() {} };

/** Renders an unknown thrown value for a log field. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

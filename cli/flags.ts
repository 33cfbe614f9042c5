/**
 * Flag parsing shared by the commands: every mistake becomes a {@linkcode UsageError} (exit 2)
 * whose message names the flag, its allowed values and what was given.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { suggestion } from "./suggest.ts";
import { UsageError } from "./usage_error.ts";

/** The flag definitions `node:util`'s `parseArgs` takes. */
export type FlagOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;

/** What {@linkcode parseFlags} returns: flag values by name, and the other arguments. */
export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses `args` strictly: an unknown flag (with the closest known one suggested), a flag without
 * its value, or more than `maxPositionals` other arguments is a {@linkcode UsageError}.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./flags.ts";
 *
 * const { values } = parseFlags(["--port", "3000"], { port: { type: "string" } }, 0);
 * console.log(values.port); // "3000"
 * ```
 */
export function parseFlags(
  args: string[],
  options: FlagOptions,
  maxPositionals: number,
): ParsedFlags {
  let parsed: ParsedFlags;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true }) as ParsedFlags;
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify.*$/s, "");
    const unknown = message.match(/^Unknown option '(--?[^']+)'/)?.[1];
    const known = Object.keys(options).map((name) => `--${name}`);
    throw new UsageError(unknown ? `${message}${suggestion(unknown, known)}` : message);
  }
  const extra = parsed.positionals.slice(maxPositionals);
  if (extra.length > 0) {
    throw new UsageError(
      `unexpected argument${extra.length > 1 ? "s" : ""} '${extra.join("' '")}'`,
    );
  }
  return parsed;
}

/**
 * A whole number flag from `min` to `max`, or undefined when absent.
 *
 * @throws {UsageError} for anything else, naming the flag and the range.
 *
 * @example
 * ```ts
 * import { wholeNumber } from "./flags.ts";
 *
 * console.log(wholeNumber("8080", "port", 0, 65_535)); // 8080
 * ```
 */
export function wholeNumber(
  value: string | undefined,
  flag: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === "" || !Number.isInteger(number) || number < min || number > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${flag} must be a whole number ${range}: got '${value}'`);
  }
  return number;
}

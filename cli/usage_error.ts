/**
 * The error for a command line that cannot work as given: the CLI prints its message on one line
 * and exits 2.
 *
 * @module
 */

/**
 * A bad flag, a missing value, an unknown command.
 *
 * @example
 * ```ts
 * import { UsageError } from "./usage_error.ts";
 *
 * const error = new UsageError("--port must be a number");
 * console.log(error.name); // "UsageError"
 * ```
 */
export class UsageError extends Error {
  /** Creates the error; `message` says what to change. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

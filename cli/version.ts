/**
 * The version `asyncmcp --version` prints: the package's, kept equal to `deno.json` by a test.
 *
 * @module
 */

/**
 * This package's version.
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 *
 * console.log(`asyncmcp ${VERSION}`);
 * ```
 */
export const VERSION = "0.1.0";

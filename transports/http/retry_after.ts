/**
 * Reading HTTP `Retry-After`.
 *
 * @module
 */

/**
 * `Retry-After` as milliseconds from now: delta seconds or an HTTP date; undefined when absent or
 * unreadable.
 *
 * @example
 * ```ts
 * import { retryAfterMs } from "./retry_after.ts";
 *
 * console.log(retryAfterMs("2")); // 2000
 * ```
 */
export function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

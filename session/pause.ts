/**
 * Waiting that an abort cuts short.
 *
 * @module
 */

/**
 * Resolves after `ms` milliseconds, or at once when `signal` aborts (never rejects), clearing its
 * timer either way.
 *
 * @example
 * ```ts
 * import { pause } from "./pause.ts";
 *
 * await pause(10, AbortSignal.timeout(1000));
 * ```
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Figures the benchmark reads off its samples and off the processes it runs: percentiles, the
 * CPU time of another process, the children of this one.
 *
 * @module
 */

/**
 * The sample below which a share `p` (0-1) of the samples lie.
 *
 * @example
 * ```ts
 * import { percentile } from "./stats.ts";
 *
 * console.log(percentile([3, 1, 2], 0.5)); // 2
 * ```
 */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/**
 * The median of `values`, or NaN when there are none.
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 *
 * console.log(median([2400, 2600, 2500])); // 2500
 * ```
 */
export function median(values: number[]): number {
  return values.length === 0 ? NaN : percentile(values, 0.5);
}

/** Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`: 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time (user and system) that process `pid` has used so far, in ms, from `/proc` (10 ms
 * resolution); undefined where there is no `/proc` or no such process.
 *
 * @example
 * ```ts
 * import { processCpuMs } from "./stats.ts";
 *
 * console.log(processCpuMs(Deno.pid) !== undefined || Deno.build.os !== "linux");
 * ```
 */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name in parentheses, which may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const [utime, stime] = [Number(fields[11]), Number(fields[12])];
    return (utime + stime) * 1000 / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * The id of this process's child whose command line contains `match` (the embedded broker's
 * process, say), or undefined where there is no `/proc` or no such child.
 *
 * @example
 * ```ts
 * import { childPid } from "./stats.ts";
 *
 * console.log(childPid("no-such-program") ?? "none");
 * ```
 */
export function childPid(match: string): number | undefined {
  try {
    for (const task of Deno.readDirSync(`/proc/${Deno.pid}/task`)) {
      const children = Deno.readTextFileSync(`/proc/${Deno.pid}/task/${task.name}/children`);
      for (const pid of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
        const command = Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
        if (command.includes(match)) return pid;
      }
    }
  } catch {
    // No /proc (macOS, Windows): the figure is left out.
  }
  return undefined;
}

/**
 * `items` in a random order (a new array).
 *
 * @example
 * ```ts
 * import { shuffled } from "./stats.ts";
 *
 * console.log(shuffled([1, 2, 3]).length); // 3
 * ```
 */
export function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

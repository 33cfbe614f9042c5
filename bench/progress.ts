/**
 * Progress of a long run on standard error: on a terminal one line per step, redrawn with a bar
 * and a count as the step advances; elsewhere (a pipe, CI) a line when a step starts and one when
 * it ends, so logs stay readable.
 *
 * @module
 */

/** Where progress goes and how it is drawn. */
export interface ProgressOptions {
  /** Receives the text. @default {writing to standard error} */
  write?: (text: string) => void;
  /** Redraw one line with a bar (a terminal) or print whole lines. @default {Deno.stderr.isTerminal()} */
  tty?: boolean;
  /** The clock, in ms. @default {performance.now} */
  now?: () => number;
}

/** One step of the run, from {@linkcode Progress.step}. */
export interface ProgressStep {
  /** Records that `count` more of the step's units are done. */
  tick(count?: number): void;
  /** Ends the step, with what it found (a median, a rate) shown beside its time. */
  done(result?: string): void;
}

const BAR_WIDTH = 24;
/** At most this often a terminal line is redrawn, in ms: redrawing per call would cost time. */
const REDRAW_MS = 100;

/**
 * Reports the steps of a long run as they happen.
 *
 * @example
 * ```ts
 * import { Progress } from "./progress.ts";
 *
 * const lines: string[] = [];
 * const progress = new Progress({ write: (text) => lines.push(text), tty: false });
 * const step = progress.step("SQS: tools/call latency", 3);
 * for (let i = 0; i < 3; i++) step.tick();
 * step.done("median 3.10 ms");
 * ```
 */
export class Progress {
  readonly #write: (text: string) => void;
  readonly #tty: boolean;
  readonly #now: () => number;

  /** Draws on standard error unless told otherwise. */
  constructor(options: ProgressOptions = {}) {
    const encoder = new TextEncoder();
    this.#write = options.write ?? ((text) => Deno.stderr.writeSync(encoder.encode(text)));
    this.#tty = options.tty ?? Deno.stderr.isTerminal();
    this.#now = options.now ?? (() => performance.now());
  }

  /** Starts a step of `total` units (calls, say); without a total it shows only its time. */
  step(label: string, total?: number): ProgressStep {
    const started = this.#now();
    let count = 0;
    let drawn = -Infinity;
    const draw = () => {
      drawn = this.#now();
      const seconds = ((drawn - started) / 1000).toFixed(0);
      if (total === undefined || total <= 0) {
        this.#write(`\r\x1b[2K${label} … ${seconds} s`);
        return;
      }
      const filled = Math.round(Math.min(1, count / total) * BAR_WIDTH);
      const bar = "█".repeat(filled) + "░".repeat(BAR_WIDTH - filled);
      this.#write(`\r\x1b[2K${label} ${bar} ${count}/${total} ${seconds} s`);
    };
    if (this.#tty) draw();
    else this.#write(`${label} …\n`);
    let finished = false;
    return {
      tick: (more = 1) => {
        count += more;
        if (this.#tty && !finished && this.#now() - drawn >= REDRAW_MS) draw();
      },
      done: (result) => {
        if (finished) return;
        finished = true;
        const seconds = ((this.#now() - started) / 1000).toFixed(1);
        const line = `${label}: ${result ? `${result}, ` : ""}${seconds} s\n`;
        this.#write(this.#tty ? `\r\x1b[2K✓ ${line}` : line);
      },
    };
  }
}

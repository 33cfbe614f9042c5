/**
 * Coalesces single sends into the broker's batch calls without delaying a lone message.
 *
 * @module
 */

/** Options for {@linkcode Batcher}. */
export interface BatcherOptions<T> {
  /** Most items per batch call (10 for SQS and SNS). */
  maxItems: number;
  /** Most bytes per batch call, as counted by `sizeOf`. @default {Infinity} */
  maxBytes?: number;
  /** The size of one item in bytes. @default {() => 0} */
  sizeOf?: (item: T) => number;
  /** Most batch calls running at once; items added meanwhile wait and travel together. */
  maxConcurrent: number;
  /**
   * Most batch calls running at once while a full batch (`maxItems`) is waiting: a backlog goes
   * out in parallel rather than growing behind `maxConcurrent` calls, while partial batches
   * still wait for a slot and fill up. @default {maxConcurrent}
   */
  maxConcurrentFull?: number;
  /**
   * When a batch goes out: `"microtask"` at the end of the current tick (for sends, where
   * latency counts), `"macrotask"` after pending work such as handlers has run (for
   * acknowledgements, which nobody waits for), or a number of milliseconds after its first item
   * unless it fills up before (acknowledgements that may as well wait for more to travel with).
   * @default {"microtask"}
   */
  flushAfter?: "microtask" | "macrotask" | number;
  /** Called each time the last pending item has been sent. */
  onIdle?: () => void;
  /** Runs one batch call; returns, per item in order, undefined for success or its error. */
  run: (items: T[]) => Promise<Array<Error | undefined>>;
}

interface Pending<T> {
  item: T;
  size: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Collects items added in the same tick, and items added while all batch slots are busy, into
 * batch calls. A lone item goes out at the end of the current tick, without a timer.
 *
 * @example Batch deletes
 * ```ts
 * import { Batcher } from "./batcher.ts";
 *
 * const batcher = new Batcher<string>({
 *   maxItems: 10,
 *   maxConcurrent: 2,
 *   run: (items) => {
 *     console.log("deleting", items);
 *     return Promise.resolve(items.map(() => undefined));
 *   },
 * });
 * await Promise.all([batcher.add("a"), batcher.add("b")]); // one call with both
 * ```
 */
export class Batcher<T> {
  #options: BatcherOptions<T>;
  #maxBytes: number;
  #maxConcurrentFull: number;
  /** The wait of a partial batch, with a number for `flushAfter`. */
  #timer?: ReturnType<typeof setTimeout>;
  /** Set by `hurry()`: nothing waits any longer. */
  #hurried = false;
  #pending: Pending<T>[] = [];
  #inFlight = 0;
  #scheduled = false;
  #idleWaiters: Array<() => void> = [];

  /** Validates the limits; items are sent as they are added. */
  constructor(options: BatcherOptions<T>) {
    if (!(options.maxItems >= 1) || !(options.maxConcurrent >= 1)) {
      throw new RangeError(
        `Cannot create batcher as 'maxItems' and 'maxConcurrent' must be at least 1: ` +
          `current values are ${options.maxItems} and ${options.maxConcurrent}`,
      );
    }
    this.#options = options;
    this.#maxBytes = options.maxBytes ?? Infinity;
    this.#maxConcurrentFull = Math.max(options.maxConcurrent, options.maxConcurrentFull ?? 0);
  }

  /** Queues an item; resolves once its batch call succeeded for it, rejects with its error. */
  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      const size = this.#options.sizeOf?.(item) ?? 0;
      this.#pending.push({ item, size, resolve, reject });
      // Once hurried (closing), nothing waits, not even for a timer that could outlive the close.
      const flushAfter = this.#hurried ? "microtask" : this.#options.flushAfter;
      if (typeof flushAfter === "number" && this.#pending.length >= this.#options.maxItems) {
        // A full batch waits for nothing.
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#scheduled = false;
      }
      if (!this.#scheduled) {
        this.#scheduled = true;
        const flush = () => {
          this.#scheduled = false;
          this.#timer = undefined;
          this.#drain();
        };
        if (typeof flushAfter === "number" && this.#pending.length < this.#options.maxItems) {
          this.#timer = setTimeout(flush, flushAfter);
        } else if (flushAfter === "macrotask") setTimeout(flush, 0);
        else queueMicrotask(flush);
      }
    });
  }

  /**
   * Sends what waits for company at once, and from now on does not wait (every batch goes at
   * the end of the tick): for closing.
   */
  hurry(): void {
    this.#hurried = true;
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#scheduled = false;
    this.#drain();
  }

  /** Resolves once nothing is queued or being sent. */
  idle(): Promise<void> {
    if (this.#pending.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #drain(): void {
    while (this.#pending.length > 0 && this.#inFlight < this.#slots()) {
      const batch = this.#take();
      this.#inFlight++;
      this.#options.run(batch.map((entry) => entry.item)).then(
        (results) => {
          batch.forEach((entry, index) => {
            const error = results[index];
            if (error) entry.reject(error);
            else entry.resolve();
          });
        },
        (error) => {
          for (const entry of batch) entry.reject(error);
        },
      ).finally(() => {
        this.#inFlight--;
        this.#drain();
        if (this.#pending.length === 0 && this.#inFlight === 0) {
          for (const resolve of this.#idleWaiters.splice(0)) resolve();
          this.#options.onIdle?.();
        }
      });
    }
  }

  /** Calls that may run now: more while a full batch waits. */
  #slots(): number {
    return this.#pending.length >= this.#options.maxItems
      ? this.#maxConcurrentFull
      : this.#options.maxConcurrent;
  }

  #take(): Pending<T>[] {
    const batch: Pending<T>[] = [];
    let bytes = 0;
    while (this.#pending.length > 0 && batch.length < this.#options.maxItems) {
      const next = this.#pending[0];
      if (batch.length > 0 && bytes + next.size > this.#maxBytes) break;
      batch.push(this.#pending.shift()!);
      bytes += next.size;
    }
    return batch;
  }
}

import assert from "node:assert/strict";
import { Batcher } from "../transports/aws/batcher.ts";

function recorder(fail: (item: number) => Error | undefined = () => undefined) {
  const calls: number[][] = [];
  return {
    calls,
    run: (items: number[]) => {
      calls.push(items);
      return Promise.resolve(items.map(fail));
    },
  };
}

Deno.test("Batcher sends items added in the same tick as one batch", async () => {
  const { calls, run } = recorder();
  const batcher = new Batcher<number>({ maxItems: 10, maxConcurrent: 1, run });
  await Promise.all([1, 2, 3].map((item) => batcher.add(item)));
  assert.deepEqual(calls, [[1, 2, 3]]);
});

Deno.test("Batcher sends a lone item without waiting for a timer", async () => {
  const { calls, run } = recorder();
  const batcher = new Batcher<number>({ maxItems: 10, maxConcurrent: 1, run });
  const sent = batcher.add(1);
  await Promise.resolve();
  assert.deepEqual(calls, [[1]]);
  await sent;
});

Deno.test("Batcher splits at maxItems and maxBytes", async () => {
  const { calls, run } = recorder();
  const batcher = new Batcher<number>({
    maxItems: 3,
    maxBytes: 10,
    sizeOf: (item) => item,
    maxConcurrent: 4,
    run,
  });
  await Promise.all([1, 1, 1, 1, 6, 6].map((item) => batcher.add(item)));
  assert.deepEqual(calls, [[1, 1, 1], [1, 6], [6]]);
});

Deno.test("Batcher rejects only the items whose entry failed", async () => {
  const { run } = recorder((item) => item === 2 ? new Error("refused") : undefined);
  const batcher = new Batcher<number>({ maxItems: 10, maxConcurrent: 1, run });
  const results = await Promise.allSettled([1, 2, 3].map((item) => batcher.add(item)));
  assert.deepEqual(results.map((result) => result.status), ["fulfilled", "rejected", "fulfilled"]);
});

Deno.test("Batcher rejects every item of a batch call that throws", async () => {
  const batcher = new Batcher<number>({
    maxItems: 10,
    maxConcurrent: 1,
    run: () => Promise.reject(new Error("network down")),
  });
  const results = await Promise.allSettled([1, 2].map((item) => batcher.add(item)));
  assert.ok(results.every((result) => result.status === "rejected"));
});

Deno.test("Batcher collects items that arrive while every slot is busy into the next batch", async () => {
  const calls: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const batcher = new Batcher<number>({
    maxItems: 10,
    maxConcurrent: 1,
    run: async (items) => {
      calls.push(items);
      if (calls.length === 1) await gate;
      return items.map(() => undefined);
    },
  });
  const first = batcher.add(1);
  await Promise.resolve();
  const later = [2, 3, 4].map((item) => batcher.add(item));
  // Their flush runs now and finds the only slot busy.
  await Promise.resolve();
  release();
  await Promise.all([first, ...later]);
  assert.deepEqual(calls, [[1], [2, 3, 4]]);
});

Deno.test("Batcher runs full batches at once up to maxConcurrentFull while a partial one waits for a slot", async () => {
  const calls: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const batcher = new Batcher<number>({
    maxItems: 2,
    maxConcurrent: 1,
    maxConcurrentFull: 3,
    run: async (items) => {
      calls.push(items);
      await gate;
      return items.map(() => undefined);
    },
  });
  const sent = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((item) => batcher.add(item));
  await Promise.resolve();
  assert.deepEqual(calls, [[1, 2], [3, 4], [5, 6]]);
  release();
  await Promise.all(sent);
  // Once the backlog is down to a partial batch, one call at a time again.
  assert.deepEqual(calls.slice(3), [[7, 8], [9]]);
});

Deno.test("Batcher throws a RangeError for maxItems below 1", () => {
  assert.throws(
    () => new Batcher<number>({ maxItems: 0, maxConcurrent: 1, run: () => Promise.resolve([]) }),
    RangeError,
  );
});

Deno.test("Batcher with flushAfter in ms holds items added over several ticks for one batch", async () => {
  const { calls, run } = recorder();
  const batcher = new Batcher<number>({ maxItems: 10, maxConcurrent: 1, flushAfter: 40, run });
  const sent = [batcher.add(1)];
  await new Promise((resolve) => setTimeout(resolve, 10));
  sent.push(batcher.add(2));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(calls, [], "nothing went out before the wait ended");
  await Promise.all(sent);
  assert.deepEqual(calls, [[1, 2]]);
});

Deno.test("Batcher with flushAfter in ms sends a full batch at once", async () => {
  const { calls, run } = recorder();
  const batcher = new Batcher<number>({ maxItems: 3, maxConcurrent: 1, flushAfter: 60_000, run });
  const sent = [1, 2, 3].map((item) => batcher.add(item));
  await Promise.resolve();
  assert.deepEqual(calls, [[1, 2, 3]]);
  await Promise.all(sent);
});

Deno.test("Batcher.hurry() sends what waits at once and stops waiting", async () => {
  const { calls, run } = recorder();
  const batcher = new Batcher<number>({ maxItems: 10, maxConcurrent: 1, flushAfter: 60_000, run });
  const first = batcher.add(1);
  batcher.hurry();
  assert.deepEqual(calls, [[1]], "the waiting item went out at once");
  await first;
  const second = batcher.add(2);
  await Promise.resolve();
  assert.deepEqual(calls, [[1], [2]], "a later item did not wait");
  await second;
});

import assert from "node:assert/strict";
import { Progress } from "../bench/progress.ts";

const ROOT = new URL("../", import.meta.url).pathname;

function recorder(tty: boolean) {
  let now = 0;
  const written: string[] = [];
  const progress = new Progress({ write: (text) => written.push(text), tty, now: () => now });
  return { progress, written, advance: (ms: number) => now += ms };
}

Deno.test("Progress off a terminal prints a line as a step starts and one with its result as it ends", () => {
  const { progress, written, advance } = recorder(false);
  const step = progress.step("SQS: load", 3);
  for (let i = 0; i < 3; i++) step.tick();
  advance(2500);
  step.done("2112 calls/s");
  assert.deepEqual(written, ["SQS: load …\n", "SQS: load: 2112 calls/s, 2.5 s\n"]);
});

Deno.test("Progress on a terminal redraws one line with a bar and the count, at most every 100 ms", () => {
  const { progress, written, advance } = recorder(true);
  const step = progress.step("SQS: load", 4);
  step.tick(); // within 100 ms of the first drawing: not redrawn
  advance(150);
  step.tick();
  advance(150);
  step.tick(2);
  step.done("fast");
  assert.equal(written.length, 4);
  assert.ok(written.slice(0, 3).every((text) => text.startsWith("\r\x1b[2KSQS: load ")));
  assert.match(written[0], /░{24} 0\/4 0 s$/);
  assert.match(written[1], /█{12}░{12} 2\/4 0 s$/);
  assert.match(written[2], /█{24} 4\/4 0 s$/);
  assert.equal(written[3], "\r\x1b[2K✓ SQS: load: fast, 0.3 s\n");
});

Deno.test("deno task bench shows each step on stderr as it runs and prints the tables at the end", async () => {
  const output = await new Deno.Command("deno", {
    args: ["task", "--quiet", "bench"],
    cwd: ROOT,
    env: { BENCH_ONLY: "http", BENCH_CALLS: "5", BENCH_HTTP_LOAD_CALLS: "20" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.match(stderr, /^HTTP: tools\/calls over each transport, alternately …\n/);
  assert.match(stderr, /HTTP: load, SDK Streamable HTTP: \d+ calls\/s, [\d.]+ s\n$/);
  assert.equal(stderr.split("\n").filter(Boolean).length, 10);
  assert.match(stdout, /\| tools\/call, 1 client, median \|/);
  assert.doesNotMatch(stdout, /…/);
});

/**
 * Runs the MCP conformance suite's server scenarios (`@modelcontextprotocol/conformance` 0.1.16)
 * against a URL and reads back what each check concluded.
 *
 * @module
 */

import assert from "node:assert/strict";

const CONFORMANCE = "npm:@modelcontextprotocol/conformance@0.1.16";

/** The active server scenarios of conformance 0.1.16 (its `list` command names them). */
export const ACTIVE_SCENARIOS = [
  "completion-complete",
  "dns-rebinding-protection",
  "elicitation-sep1034-defaults",
  "elicitation-sep1330-enums",
  "logging-set-level",
  "ping",
  "prompts-get-embedded-resource",
  "prompts-get-simple",
  "prompts-get-with-args",
  "prompts-get-with-image",
  "prompts-list",
  "resources-list",
  "resources-read-binary",
  "resources-read-text",
  "resources-subscribe",
  "resources-templates-read",
  "resources-unsubscribe",
  "server-initialize",
  "server-sse-multiple-streams",
  "tools-call-audio",
  "tools-call-elicitation",
  "tools-call-embedded-resource",
  "tools-call-error",
  "tools-call-image",
  "tools-call-mixed-content",
  "tools-call-sampling",
  "tools-call-simple-text",
  "tools-call-with-logging",
  "tools-call-with-progress",
  "tools-list",
];

/** The checks those scenarios make, every one of which must succeed. */
export const ACTIVE_CHECKS = 40;

/** One check the suite reported as failed. */
export interface FailedCheck {
  scenario: string;
  check: string;
  message: string;
}

/** The suite's verdict. */
export interface ConformanceResult {
  /** Scenarios run (the active suite unless named). */
  scenarios: string[];
  /** Checks that succeeded. */
  passed: number;
  failed: FailedCheck[];
  /** The suite's own summary, for assertion messages. */
  output: string;
}

/**
 * Runs the active server scenarios (or the ones named) against `url`. Results are read from the
 * `checks.json` the suite writes per scenario, not from its console output.
 */
export async function runConformance(
  url: string,
  options: { scenarios?: string[] } = {},
): Promise<ConformanceResult> {
  const outputDir = await Deno.makeTempDir({ prefix: "asyncmcp-conformance-" });
  try {
    const runs = options.scenarios?.map((scenario) => ["--scenario", scenario]) ?? [[]];
    let output = "";
    for (const scenarioArgs of runs) {
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CONFORMANCE, "server", "--url", url, "-o", outputDir, ...scenarioArgs],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      const decoder = new TextDecoder();
      output += decoder.decode(run.stdout) + decoder.decode(run.stderr);
    }
    const scenarios: string[] = [];
    const failed: FailedCheck[] = [];
    let passed = 0;
    for await (const entry of Deno.readDir(outputDir)) {
      // Named `server-<scenario>-<timestamp>`.
      const scenario = entry.name.replace(/^server-/, "").replace(/-\d{4}-\d\d-\d\dT.*$/, "");
      scenarios.push(scenario);
      const checks = JSON.parse(
        await Deno.readTextFile(`${outputDir}/${entry.name}/checks.json`),
      ) as Array<{ id: string; status: string; errorMessage?: string }>;
      for (const check of checks) {
        if (check.status === "SUCCESS") passed++;
        if (check.status === "FAILURE") {
          failed.push({ scenario, check: check.id, message: check.errorMessage ?? "" });
        }
      }
    }
    if (scenarios.length === 0) {
      throw new Error(`The conformance suite ran no scenario; its output:\n${output}`);
    }
    const summary = output.slice(output.indexOf("=== SUMMARY ==="));
    return { scenarios: scenarios.sort(), passed, failed, output: summary };
  } finally {
    await Deno.remove(outputDir, { recursive: true });
  }
}

/** Asserts that every active scenario ran and every one of its checks succeeded, no more, no less. */
export function assertAllActivePass(result: ConformanceResult): void {
  assert.deepEqual(result.failed, [], result.output);
  assert.deepEqual(result.scenarios, ACTIVE_SCENARIOS);
  assert.equal(result.passed, ACTIVE_CHECKS, result.output);
}

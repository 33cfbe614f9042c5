/**
 * Runs the MCP conformance suite's server scenarios (`@modelcontextprotocol/conformance` 0.1.16)
 * against a URL and reads back what each check concluded.
 *
 * @module
 */

const CONFORMANCE = "npm:@modelcontextprotocol/conformance@0.1.16";

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

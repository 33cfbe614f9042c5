/**
 * The benchmark's Markdown output: tables built row by row, printed once every section has run.
 *
 * @module
 */

/**
 * Lines of Markdown, with helpers for tables.
 *
 * @example
 * ```ts
 * import { Report } from "./report.ts";
 *
 * const report = new Report();
 * report.table(["measure", "SQS", "target"]);
 * report.row("tools/call, 1 client, median", ["1.68 ms"], "≤ 2.5 ms");
 * console.log(report.text());
 * ```
 */
export class Report {
  readonly #lines: string[] = [];

  /** Adds a paragraph (or any line). */
  line(text: string): void {
    this.#lines.push(text);
  }

  /** Starts a table with these column names. */
  table(columns: string[]): void {
    this.#lines.push("", `| ${columns.join(" | ")} |`, `|${columns.map(() => "---").join("|")}|`);
  }

  /** Adds a row: a label, one value per column, and the target (may be empty). */
  row(label: string, values: string[], target = ""): void {
    this.#lines.push(`| ${label} | ${values.join(" | ")} | ${target} |`);
  }

  /** All of it, as printed. */
  text(): string {
    return this.#lines.join("\n");
  }
}

/** `1.23 ms`. */
export const ms = (value: number): string => `${value.toFixed(2)} ms`;
/** `2400 calls/s`. */
export const perSecond = (value: number): string => `${Math.round(value)} calls/s`;

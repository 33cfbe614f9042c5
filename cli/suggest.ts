/**
 * "Did you mean ...?" for mistyped commands and flags.
 *
 * @module
 */

/**
 * The end of an error message that suggests the closest of `known` to `given` (within a third of
 * its length in edits), or lists them all when none is close.
 *
 * @example
 * ```ts
 * import { suggestion } from "./suggest.ts";
 *
 * console.log(suggestion("proxi", ["proxy", "setup"])); // ": did you mean 'proxy'?"
 * ```
 */
export function suggestion(given: string, known: readonly string[]): string {
  let best: { word: string; distance: number } | undefined;
  for (const word of known) {
    const distance = editDistance(given.toLowerCase(), word.toLowerCase());
    if (!best || distance < best.distance) best = { word, distance };
  }
  if (best && best.distance <= Math.max(1, Math.floor(best.word.length / 3))) {
    return `: did you mean '${best.word}'?`;
  }
  return known.length > 5 ? "" : `: use ${known.map((word) => `'${word}'`).join(", ")}`;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

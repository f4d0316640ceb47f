/**
 * "Did you mean …?" for a mistyped command. Five commands do not need a package: the closest
 * by edit distance (Levenshtein, with a transposition counting once), if it is close at all.
 */

/** Edit distance between a and b, where swapping two neighbouring letters costs 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known word `typed` most likely meant: within 2 edits (1 for words of 4 letters or fewer), or one it begins. */
export function suggest(typed: string, known: readonly string[]): string | undefined {
  const t = typed.toLowerCase();
  if (t.length >= 2) {
    const prefixed = known.filter((k) => k.startsWith(t));
    if (prefixed.length === 1) return prefixed[0];
  }
  let best: { word: string; distance: number } | undefined;
  for (const word of known) {
    const distance = editDistance(t, word);
    if (!best || distance < best.distance) best = { word, distance };
  }
  const allowed = t.length <= 4 ? 1 : 2;
  return best && best.distance <= allowed ? best.word : undefined;
}

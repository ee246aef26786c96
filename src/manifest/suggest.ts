/** "Did you mean" for misspelt keys and values. */

/** Optimal string alignment distance: Levenshtein plus swapped neighbours (`nmae` -> `name` is 1). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[i].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2][j - 2] + 1);
      rows[i].push(best);
    }
  }
  return rows[a.length][b.length];
}

/** Case, dashes and underscores do not count: `healthyAfter`, `Healthy-After` and `healthy_after` are one key. */
export function looseKey(key: string): string {
  return key.toLowerCase().replace(/[-_\s]/g, '');
}

/**
 * The candidate the user most likely meant, or undefined when none is close: spelling variants first,
 * then the nearest by edit distance, allowing one edit for short words and two for longer ones.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const loose = looseKey(word);
  const variant = candidates.find((c) => looseKey(c) === loose);
  if (variant !== undefined) return variant;
  const limit = loose.length <= 5 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const other = looseKey(candidate);
    // The distance is at least the difference in length: a long key is not compared letter by letter.
    if (Math.abs(other.length - loose.length) > limit) continue;
    const distance = editDistance(loose, other);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit && bestDistance < loose.length ? best : undefined;
}

/**
 * Smooth weighted round-robin (the nginx algorithm): over any window of sum(weights) picks, each
 * target gets exactly its share, interleaved rather than in bursts. Targets that are down or already
 * tried for this request are skipped.
 */
export interface Weighted {
  weight: number;
  current: number;
}

export function pickWeighted<T extends Weighted>(targets: readonly T[], usable: (t: T) => boolean): T | undefined {
  let total = 0;
  let best: T | undefined;
  for (const target of targets) {
    if (target.weight <= 0 || !usable(target)) continue;
    target.current += target.weight;
    total += target.weight;
    if (!best || target.current > best.current) best = target;
  }
  if (best) best.current -= total;
  return best;
}

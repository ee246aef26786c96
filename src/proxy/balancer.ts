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

/**
 * As pickWeighted, with every usable target counted as weight 1 whatever its own. For a canary split's
 * side whose weights are all 0 (the control plane also writes the split's share into the weights, so at
 * 100 % stable weighs 0): the split's percentage, not the weights, decides whether that side serves.
 */
export function pickEvenly<T extends Weighted>(targets: readonly T[], usable: (t: T) => boolean): T | undefined {
  let total = 0;
  let best: T | undefined;
  for (const target of targets) {
    if (!usable(target)) continue;
    target.current += 1;
    total += 1;
    if (!best || target.current > best.current) best = target;
  }
  if (best) best.current -= total;
  return best;
}

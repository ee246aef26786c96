/**
 * The batches of a rolling deploy for one process (pure): how many old instances leave before each batch
 * starts, how many new ones it starts, and how many old ones leave once they are healthy.
 *
 * Two bounds hold at every moment, counting an instance from its start until it has stopped:
 *  - running instances of the process never exceed `replicas + maxSurge` (or what ran before, if that
 *    was more: a scale-down only ever retires first);
 *  - serving ones never drop below `replicas - maxUnavailable` (or what served before, if that was less).
 * With `replicas - maxUnavailable <= 0` and `maxSurge 0` (one replica, `max_unavailable: 1`) the process
 * has nothing serving during its batch: that is what berth.yaml asked for (replace in place, no extra
 * instance); `gap` says so, and the executor reports it.
 *
 * The same plan runs backwards for a rollback: `current` instances of the release wanted, `outgoing` the
 * ones of the release being left.
 */
export interface RollingInput {
  /** Replicas the process should end with (its formation applied). */
  replicas: number;
  /** Instances of the wanted release already serving (a rollback's untouched old ones; 0 for a deploy). */
  current: number;
  /** Instances of other releases serving now, all retired by the end. */
  outgoing: number;
  maxSurge: number;
  maxUnavailable: number;
}

export interface RollingBatch {
  /** Old instances drained and stopped before this batch starts anything (room under the surge bound). */
  retireBefore: number;
  /** New instances started, then gated together. */
  start: number;
  /** Old instances drained once the batch serves. */
  retireAfter: number;
  /** Nothing of the process serves while this batch starts (only with `maxSurge 0` and `maxUnavailable >= replicas`). */
  gap: boolean;
}

const whole = (n: number, name: string) => {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a whole number >= 0, not ${n}`);
  return n;
};

export function planRolling(input: RollingInput): RollingBatch[] {
  const replicas = whole(input.replicas, 'replicas');
  const surge = whole(input.maxSurge, 'maxSurge');
  const unavailable = whole(input.maxUnavailable, 'maxUnavailable');
  let fresh = whole(input.current, 'current');
  let outgoing = whole(input.outgoing, 'outgoing');
  // berth.yaml refuses this pair; a plan could make no progress without one of them.
  if (surge + unavailable < 1) throw new RangeError('maxSurge + maxUnavailable must be at least 1');
  const batches: RollingBatch[] = [];
  if (fresh >= replicas) return outgoing > 0 ? [{ retireBefore: 0, start: 0, retireAfter: outgoing, gap: false }] : [];
  const floor = replicas - unavailable;
  while (fresh < replicas) {
    const running = fresh + outgoing;
    // Retiring first may go down to the floor, never below (nor below zero).
    const mayRetire = Math.min(outgoing, Math.max(0, running - floor));
    const start = Math.min(replicas - fresh, replicas + surge - running + mayRetire);
    const retireBefore = Math.max(0, running + start - (replicas + surge));
    const gap = running > 0 && running - retireBefore === 0;
    fresh += start;
    outgoing -= retireBefore;
    // Once healthy, old ones leave so that the process is back at its replicas; the last batch retires the rest.
    const retireAfter = fresh >= replicas ? outgoing : Math.max(0, Math.min(outgoing, fresh + outgoing - replicas));
    outgoing -= retireAfter;
    batches.push({ retireBefore, start, retireAfter, gap });
  }
  return batches;
}

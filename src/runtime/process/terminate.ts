/**
 * Ends process groups the polite way: SIGTERM, wait until every member is gone, SIGKILL whatever is left
 * after the timeout. "Gone" ignores zombies: they run nothing and may never be reaped.
 */
import type { Clock } from '../../lib/clock.ts';
import { liveGroups, signalGroup } from '../../lib/proc.ts';

const POLL_MS = 25;
/** After SIGKILL a process ends as soon as the kernel gets to it; this only bounds a stuck (D-state) one. */
const AFTER_KILL_MS = 5_000;

export async function terminateGroups(options: { groups: number[]; timeoutMs: number; clock: Clock }): Promise<{ killed: boolean }> {
  const { clock } = options;
  const groups = [...new Set(options.groups)];
  for (const group of groups) signalGroup(group, 'SIGTERM');
  const left = await waitUntilGone(groups, options.timeoutMs, clock);
  if (left.length === 0) return { killed: false };
  for (const group of left) signalGroup(group, 'SIGKILL');
  await waitUntilGone(left, AFTER_KILL_MS, clock);
  return { killed: true };
}

/** The groups still alive at the deadline (none when all were gone before it); one /proc scan per poll. */
async function waitUntilGone(groups: number[], timeoutMs: number, clock: Clock): Promise<number[]> {
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const alive = liveGroups(groups);
    if (alive.length === 0 || clock.now() >= deadline) return alive;
    await clock.sleep(Math.min(POLL_MS, Math.max(1, deadline - clock.now())));
  }
}

/**
 * Ends process groups the polite way: SIGTERM, wait until every member is gone, SIGKILL whatever is left
 * after the timeout. "Gone" ignores zombies: they run nothing and may never be reaped.
 */
import type { Clock } from '../../lib/clock.ts';
import { groupAlive, signalGroup } from './proc.ts';

const POLL_MS = 25;
/** After SIGKILL a process ends as soon as the kernel gets to it; this only bounds a stuck (D-state) one. */
const AFTER_KILL_MS = 5_000;

export async function terminateGroups(options: { groups: number[]; timeoutMs: number; clock: Clock }): Promise<{ killed: boolean }> {
  const { clock } = options;
  const groups = [...new Set(options.groups)];
  const alive = () => groups.filter(groupAlive);
  for (const group of groups) signalGroup(group, 'SIGTERM');
  if (await waitUntilGone(alive, options.timeoutMs, clock)) return { killed: false };
  for (const group of alive()) signalGroup(group, 'SIGKILL');
  await waitUntilGone(alive, AFTER_KILL_MS, clock);
  return { killed: true };
}

async function waitUntilGone(alive: () => number[], timeoutMs: number, clock: Clock): Promise<boolean> {
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    if (alive().length === 0) return true;
    if (clock.now() >= deadline) return false;
    await clock.sleep(Math.min(POLL_MS, Math.max(1, deadline - clock.now())));
  }
}

/**
 * Notices the end of a process that is not our child (adopted after a daemon restart), which sends us no
 * exit event: poll its pid + start time. The timer is unref'd, so it never keeps the daemon alive.
 */
import { isSameProcessAlive } from '../../lib/proc.ts';

/** Calls onGone once the process is gone; returns a function that stops watching. */
export function watchUntilGone(options: { pid: number; startTime: number | null; intervalMs: number; onGone: () => void }): () => void {
  const timer = setInterval(() => {
    if (isSameProcessAlive(options.pid, options.startTime)) return;
    clearInterval(timer);
    options.onGone();
  }, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * What happens after an instance exits on its own: restart after a back-off, or give up (crash loop).
 * Pure functions over explicit times so every driver supervises the same way and tests need no clock.
 * Any exit berth did not ask for counts as a crash, whatever its code: a web process is meant to run.
 */
import type { DriverEvent, ExitInfo, RestartPolicy } from './driver.ts';

export type RestartDecision = { action: 'restart'; delayMs: number } | { action: 'crashloop' };

/** The crash times that still count at `now`: those inside the policy window, oldest first. */
export function recentCrashes(options: { policy: RestartPolicy; crashes: number[]; now: number }): number[] {
  const { policy, crashes, now } = options;
  return crashes.filter((at) => at > now - policy.windowMs && at <= now).sort((a, b) => a - b);
}

/**
 * `crashes` are the crash times to consider, including the one being decided about.
 * More than maxRestarts crashes inside the window is a crash loop; otherwise the delay doubles with each
 * crash in the window (backoffMs, 2x, 4x, ...) up to maxBackoffMs, so a single crash after a quiet
 * period waits only the first back-off again.
 */
export function decideRestart(options: { policy: RestartPolicy; crashes: number[]; now: number }): RestartDecision {
  const { policy } = options;
  const count = recentCrashes(options).length;
  if (count > policy.maxRestarts) return { action: 'crashloop' };
  const exponent = Math.max(0, count - 1);
  // Cap the exponent before multiplying so huge counts cannot overflow to Infinity.
  const delayMs = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.min(exponent, 52));
  return { action: 'restart', delayMs: Math.max(0, delayMs) };
}

export interface ExitPlan {
  decision: RestartDecision;
  /** The crash history to keep: recent crashes including this exit. */
  crashes: number[];
  /** Events to emit, in order. */
  events: DriverEvent[];
}

/** Everything a driver needs to do after an unexpected exit: the decision, the new history, the events. */
export function planAfterExit(options: {
  id: string;
  policy: RestartPolicy;
  crashes: number[];
  restarts: number;
  exit: ExitInfo;
}): ExitPlan {
  const { id, policy, restarts, exit } = options;
  const crashes = recentCrashes({ policy, crashes: [...options.crashes, exit.at], now: exit.at });
  const decision = decideRestart({ policy, crashes, now: exit.at });
  const willRestart = decision.action === 'restart';
  const events: DriverEvent[] = [{ type: 'exited', id, exit, willRestart, restarts }];
  if (!willRestart) events.push({ type: 'crashloop', id, restarts, exit });
  return { decision, crashes, events };
}

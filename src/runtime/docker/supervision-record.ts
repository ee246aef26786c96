/**
 * How the docker supervisor's record of an instance (./supervision-state.ts) changes, one pure function
 * per change: the supervisor decides which applies and saves the result.
 */
import type { ExitInfo, RestartPolicy } from '../driver.ts';
import { planAfterExit, type ExitPlan } from '../restart-policy.ts';
import type { SupervisionState } from './supervision-state.ts';

/** The record of a container start() has just started. */
export function freshRecord(id: string, startedAt: string): SupervisionState {
  return { version: 1, id, state: 'running', restarts: 0, crashes: [], startedAt };
}

/**
 * Running again, whoever started it (berth's back-off, an operator, the engine): one more restart when
 * the exit before was a crash; none after an exit from outside or a crash loop someone else ended.
 */
export function backRunning(previous: SupervisionState, startedAt: string): SupervisionState {
  const restarts = previous.state === 'restarting' && previous.reason === 'crash' ? previous.restarts + 1 : previous.restarts;
  const { restartAt: _at, reason: _reason, ...rest } = previous;
  return { ...rest, state: 'running', restarts, startedAt };
}

/** The same run, under another StartedAt (the engine says it started again and berth saw no exit). */
export function sameRunMoved(previous: SupervisionState, startedAt: string): SupervisionState {
  return { ...previous, startedAt };
}

/** Stopped by the engine or from outside berth: due to start again at once, nothing counted. */
export function stoppedFromOutside(previous: SupervisionState, exit: ExitInfo, now: number): SupervisionState {
  return { ...previous, state: 'restarting', reason: 'outside', restartAt: now, lastExit: exit };
}

/**
 * A crash, by the shared restart policy: waiting out the back-off (due at exit time + delay), or given up
 * (crash loop; the container is stopped already, as the engine restarts nothing of berth's, and stays so).
 */
export function afterCrash(previous: SupervisionState, policy: RestartPolicy, exit: ExitInfo): { state: SupervisionState; plan: ExitPlan } {
  const plan = planAfterExit({ id: previous.id, policy, crashes: previous.crashes, restarts: previous.restarts, exit });
  if (plan.decision.action === 'restart') {
    const restartAt = exit.at + plan.decision.delayMs;
    return { state: { ...previous, state: 'restarting', reason: 'crash', restartAt, crashes: plan.crashes, lastExit: exit }, plan };
  }
  const { restartAt: _at, reason: _reason, ...rest } = previous;
  return { state: { ...rest, state: 'crashloop', crashes: plan.crashes, lastExit: exit }, plan };
}

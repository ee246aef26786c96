/**
 * How the process supervisor's record of an instance (./state-file.ts) changes, and what adopt() does with
 * one a new daemon finds (pure: liveness is asked through the function passed in).
 */
import type { ExitInfo } from '../driver.ts';
import { planAfterExit, type ExitPlan } from '../restart-policy.ts';
import type { InstanceState } from './state-file.ts';

/** After an exit berth did not ask for: restarting after the policy's back-off (due at exit time + delay), or given up. */
export function afterExit(previous: InstanceState, exit: ExitInfo): { state: InstanceState; plan: ExitPlan } {
  const plan = planAfterExit({ id: previous.spec.id, policy: previous.spec.restart, crashes: previous.crashes, restarts: previous.restarts, exit });
  const base = { ...previous, pid: null, startTime: null, crashes: plan.crashes, lastExit: exit };
  if (plan.decision.action === 'restart') return { state: { ...base, state: 'restarting', restartAt: exit.at + plan.decision.delayMs }, plan };
  const state: InstanceState = { ...base, state: 'crashloop' };
  delete state.restartAt;
  return { state, plan };
}

/** Started again after the back-off: one more restart, nothing pending. */
export function relaunched(previous: InstanceState): InstanceState {
  const state: InstanceState = { ...previous, state: 'running', restarts: previous.restarts + 1 };
  delete state.restartAt;
  return state;
}

/**
 * What adopt() does with a state file: `leave` a crash loop as it is; resume a pending restart (`restart`,
 * when due); `watch` a process that still runs; or handle the exit of one that died while no daemon was
 * watching (`exited`), a crash like any other, noticed now.
 */
export type AdoptionStep = 'leave' | 'restart' | 'watch' | 'exited';

export function adoptionStep(state: InstanceState, isAlive: (pid: number, startTime: number | null) => boolean): AdoptionStep {
  if (state.state === 'crashloop') return 'leave';
  if (state.state === 'restarting') return 'restart';
  return state.pid !== null && isAlive(state.pid, state.startTime) ? 'watch' : 'exited';
}

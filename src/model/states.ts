/**
 * The two persisted state machines of a deploy. Every transition goes through the store's
 * `deployments.move` / `instances.move`, which refuse the ones not listed here, so an impossible state
 * is a bug caught at once.
 */
export type DeploymentState =
  | 'queued'
  | 'building'
  | 'checking'
  | 'releasing'
  | 'starting'
  | 'verifying'
  | 'rolling'
  | 'canary'
  | 'switching'
  | 'draining'
  | 'succeeded'
  | 'failed'
  | 'interrupted';

const deploymentTransitions: Record<DeploymentState, readonly DeploymentState[]> = {
  queued: ['building', 'checking', 'releasing', 'starting', 'verifying', 'rolling', 'failed', 'interrupted'],
  building: ['checking', 'releasing', 'starting', 'rolling', 'failed', 'interrupted'],
  // The check pipeline (berth.yaml `checks:`): `build` checks after the build, `switch` checks once the
  // new instances are healthy, before traffic moves.
  checking: ['releasing', 'starting', 'verifying', 'rolling', 'canary', 'switching', 'failed', 'interrupted'],
  // Services made ready and the release command run, before any new instance starts.
  // (straight to verifying: a rollback to a release kept warm has nothing to start)
  releasing: ['starting', 'verifying', 'rolling', 'failed', 'interrupted'],
  starting: ['verifying', 'failed', 'interrupted'],
  verifying: ['checking', 'canary', 'switching', 'failed', 'interrupted'],
  // strategy `rolling`: instances replaced batch by batch, each batch through the health gate.
  rolling: ['checking', 'switching', 'failed', 'interrupted'],
  // strategy `canary`: the new release gets a share of traffic, judged step by step.
  canary: ['switching', 'failed', 'interrupted'],
  switching: ['draining', 'failed', 'interrupted'],
  // Past the switch traffic has moved: a daemon restart finishes the drain instead of interrupting it.
  draining: ['succeeded'],
  succeeded: [],
  failed: [],
  interrupted: [],
};

export const isTerminal = (state: DeploymentState): boolean => deploymentTransitions[state].length === 0;

/** States in which a deployment holds its app: the next deploy waits or is refused. */
export const HOLDING_STATES: readonly DeploymentState[] = ['queued', 'building', 'checking', 'releasing', 'starting', 'verifying', 'rolling', 'canary', 'switching'];
/** States of a deployment not over yet: the holding ones and the drain after the switch. */
export const UNFINISHED_STATES: readonly DeploymentState[] = (Object.keys(deploymentTransitions) as DeploymentState[]).filter((s) => !isTerminal(s));

export function checkDeploymentTransition(from: DeploymentState, to: DeploymentState): void {
  if (!deploymentTransitions[from].includes(to)) throw new Error(`deployment cannot go from ${from} to ${to}`);
}

/**
 * starting -> serving: healthy and routed (workers: running)
 * serving -> draining: replaced; finishes what it has, gets nothing new
 * draining -> standby: kept running, unrouted, for an instant rollback
 * standby -> serving: rolled back to
 * * -> stopping -> stopped; starting -> failed when its deploy fails
 */
export type InstanceState = 'starting' | 'serving' | 'draining' | 'standby' | 'stopping' | 'stopped' | 'failed';

const instanceTransitions: Record<InstanceState, readonly InstanceState[]> = {
  starting: ['serving', 'stopping', 'failed'],
  serving: ['draining', 'stopping'],
  draining: ['standby', 'stopping', 'serving'],
  standby: ['serving', 'stopping'],
  stopping: ['stopped'],
  stopped: [],
  failed: [],
};

export function checkInstanceTransition(from: InstanceState, to: InstanceState): void {
  if (from !== to && !instanceTransitions[from].includes(to)) throw new Error(`instance cannot go from ${from} to ${to}`);
}

/** Instances that should have a running process. */
export const shouldRun = (state: InstanceState): boolean =>
  state === 'starting' || state === 'serving' || state === 'draining' || state === 'standby';

/** What a runtime driver says of an instance's process or container right now. */
export type InstanceRunState =
  | 'running' // up (healthy or not is for the health gate to say)
  | 'restarting' // crashed, waiting out its back-off
  | 'crashloop' // crashed too often; left stopped and reported
  | 'exited' // stopped and not coming back
  | 'missing'; // the driver knows nothing of it

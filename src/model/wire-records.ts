/**
 * What of the state machines and stored records travels to clients as it is: their enums, and a failed
 * deployment's error. Used by the event payloads (./events.ts) and the API's answers (./wire.ts).
 */
import type { DeploymentError as StoredDeploymentError, DeploymentKind as StoredDeploymentKind, ReleaseStatus as StoredReleaseStatus } from './records.ts';
import type { DeploymentState as StoredDeploymentState, InstanceRunState as StoredInstanceRunState, InstanceState as StoredInstanceState } from './states.ts';
import * as w from './wire-schema.ts';

export const DeploymentState = w.named(
  'DeploymentState',
  w.enumOfKeys<StoredDeploymentState>({ queued: true, building: true, checking: true, releasing: true, starting: true, verifying: true, rolling: true, canary: true, switching: true, draining: true, succeeded: true, failed: true, interrupted: true }),
);
export type DeploymentState = w.Infer<typeof DeploymentState>;

export const DeploymentKind = w.enumOfKeys<StoredDeploymentKind>({ deploy: true, env: true, rollback: true, scale: true, update: true });
export type DeploymentKind = w.Infer<typeof DeploymentKind>;

export const InstanceState = w.enumOfKeys<StoredInstanceState>({ starting: true, serving: true, draining: true, standby: true, stopping: true, stopped: true, failed: true });
export type InstanceState = w.Infer<typeof InstanceState>;

/** What the runtime says of an instance's process right now. */
export const InstanceRunState = w.enumOfKeys<StoredInstanceRunState>({ running: true, restarting: true, crashloop: true, exited: true, missing: true });
export type InstanceRunState = w.Infer<typeof InstanceRunState>;

export const ReleaseStatus = w.enumOfKeys<StoredReleaseStatus>({ pending: true, ready: true, failed: true, pruned: true });
export type ReleaseStatus = w.Infer<typeof ReleaseStatus>;

/** Why a deployment failed or was interrupted: a catalogue code, what happened, what to do, the last lines of output. */
export const DeploymentError = w.named(
  'DeploymentError',
  w.object({
    code: w.string(),
    message: w.string(),
    hint: w.optional(w.string()),
    logTail: w.described('the last lines of build, release or instance output', w.array(w.string())),
  }),
);
export type DeploymentError = w.Infer<typeof DeploymentError>;

/** Compiles only when the stored error and the one sent are one shape: views send the stored one as it is. */
type SameShape<A, B> = [A, B] extends [B, A] ? true : false;
type MustHold<T extends true> = T;
export type StoredErrorIsSent = MustHold<SameShape<StoredDeploymentError, DeploymentError>>;

/**
 * The auto-update policy, pure: given a followed image's state, what serves, what the registry answered
 * (or what became of the update on trial) and the time, what to do. ./image-updater.ts reads the store and
 * the registry, asks these functions, and carries the verdict out; tests drive them with plain values.
 *
 *   check due -> registry answer -> nothing | deploy D | record a failed check
 *   deploy D  -> (deploying...) -> failed its gate: pin D | not D's fault: try again later
 *             -> switched -> settle window: crash loop / unhealthy: revert and pin D | window over: settled
 */
import { HOLDING_STATES as HOLDING, type DeploymentState } from '../model/states.ts';
import type { ImageUpdateRecord } from '../store/image-updates.ts';

/** What a followed image needs from berth.yaml: how often to look, how long an update stays on trial. */
export interface UpdateTiming {
  intervalMs: number;
  settleMs: number;
}

export interface CheckError {
  code: string;
  message: string;
}

/** The registry's answer to "which digest is the tag now?" (a HEAD of the manifest). */
export type RegistryAnswer = { digest: string } | { error: CheckError };

/** Failures of an update deploy that say nothing about the image: the digest is not pinned, and tried again later. */
const NOT_THE_IMAGE = new Set(['DEPLOY_INTERRUPTED', 'IMAGE_NOT_FOUND', 'REGISTRY_AUTH_FAILED', 'REGISTRY_UNREACHABLE', 'REGISTRY_ERROR', 'PULL_TIMEOUT', 'DISK_FULL']);
/** After such a failure the next try waits at least this long, so a registry that serves manifests but no layers is not hammered with deploys. */
export const RETRY_FAILED_DEPLOY_MS = 5 * 60_000;

/** A followed image berth has not checked yet: due at once. */
export function freshState(input: { app: string; service: string | null; image: string; now: number }): ImageUpdateRecord {
  return { app: input.app, service: input.service, image: input.image, nextCheckAt: input.now, lastCheckAt: null, lastError: null, servingDigest: null, pinnedDigest: null, trial: null, updatedAt: input.now };
}

export const checkDue = (state: ImageUpdateRecord, now: number): boolean => state.trial === null && now >= state.nextCheckAt;

export type CheckVerdict =
  /** The tag still names the digest serving (or the pinned bad one): the check is recorded, nothing else. */
  | { do: 'nothing'; state: ImageUpdateRecord }
  /** A digest neither serving nor pinned: start an update deploy of it (then `trialStarted`; when another deploy holds the app, `state` waits for the next interval). */
  | { do: 'deploy'; digest: string; state: ImageUpdateRecord }
  /** The check failed; `report` when it starts failing or fails for another reason (not every interval). */
  | { do: 'record-failure'; report: boolean; state: ImageUpdateRecord };

/** The verdict on one check. `serving` is the digest the serving release runs for this image, when known. */
export function afterCheck(state: ImageUpdateRecord, input: { serving: string | null; answer: RegistryAnswer; now: number; timing: UpdateTiming }): CheckVerdict {
  const { serving, answer, now, timing } = input;
  const checked = { ...state, servingDigest: serving, lastCheckAt: now, nextCheckAt: now + timing.intervalMs, updatedAt: now };
  if ('error' in answer) {
    const report = state.lastError === null || state.lastError.code !== answer.error.code;
    return { do: 'record-failure', report, state: { ...checked, lastError: answer.error } };
  }
  const ok = { ...checked, lastError: null };
  if (answer.digest === serving || answer.digest === state.pinnedDigest) return { do: 'nothing', state: ok };
  return { do: 'deploy', digest: answer.digest, state: ok };
}

/** The update deploy of `digest` started: it is on trial. A pinned digest is forgotten: a newer one appeared. */
export function trialStarted(state: ImageUpdateRecord, digest: string, deploymentId: string, now: number): ImageUpdateRecord {
  return { ...state, pinnedDigest: null, trial: { digest, deploymentId, releaseId: null, switchedSeq: null, until: null }, updatedAt: now };
}

/** What the updater sees of an update on trial, read from the store. */
export interface TrialView {
  /** The update deployment; undefined when it is gone (its app was destroyed and made again). */
  deployment: { state: DeploymentState; errorCode: string | null; errorMessage: string | null; releaseId: string | null } | undefined;
  /** Its switch (the `deploy.switched` event), once it switched. */
  switched: { seq: number; at: number } | undefined;
  /** The app's serving release now. */
  currentRelease: string | null;
  /** The first sign of trouble of the release on trial since its switch (a crash loop, failed health checks). */
  trouble: string | undefined;
}

export type TrialVerdict =
  /** Still deploying, or settling without trouble. `state` may have changed (the switch recorded). */
  | { do: 'wait'; state: ImageUpdateRecord }
  /** The settle window passed: the new digest stays. */
  | { do: 'settled'; state: ImageUpdateRecord }
  /** The update deploy failed (its gate, its release command...): the old release still serves; pin the digest. */
  | { do: 'pin'; digest: string; reason: string; state: ImageUpdateRecord }
  /** Trouble after the switch: roll back to the release the update replaced, and pin the digest. */
  | { do: 'revert'; digest: string; reason: string; state: ImageUpdateRecord }
  /** The trial ends without a verdict on the image (interrupted, the registry failed, another deploy replaced it). */
  | { do: 'drop'; reason: string; state: ImageUpdateRecord };


/** The verdict on an update on trial (`state.trial` set). */
export function judgeTrial(state: ImageUpdateRecord, view: TrialView, now: number, timing: UpdateTiming): TrialVerdict {
  const trial = state.trial!;
  const ended = (fields: Partial<ImageUpdateRecord>): ImageUpdateRecord => ({ ...state, trial: null, updatedAt: now, ...fields });
  const deployment = view.deployment;
  if (!deployment) return { do: 'drop', reason: 'the update deployment is gone', state: ended({}) };
  if (HOLDING.includes(deployment.state)) return { do: 'wait', state };
  if (deployment.state === 'failed' || deployment.state === 'interrupted') {
    const code = deployment.errorCode ?? 'DEPLOY_INTERRUPTED';
    const reason = `the update deploy ${deployment.state === 'failed' ? 'failed' : 'was interrupted'}: ${deployment.errorMessage ?? code}`;
    if (deployment.state === 'interrupted' || NOT_THE_IMAGE.has(code)) {
      // Tried again: at the next interval after an interruption, later after a registry failure.
      const wait = code === 'DEPLOY_INTERRUPTED' ? timing.intervalMs : Math.max(timing.intervalMs, RETRY_FAILED_DEPLOY_MS);
      return { do: 'drop', reason, state: ended({ nextCheckAt: now + wait, lastError: { code, message: reason } }) };
    }
    return { do: 'pin', digest: trial.digest, reason, state: ended({ pinnedDigest: trial.digest, nextCheckAt: now + timing.intervalMs }) };
  }
  // Switched (draining or already succeeded): the settle window runs from the switch.
  let current = state;
  if (trial.until === null) {
    const switched = view.switched ?? { seq: 0, at: now };
    current = { ...state, servingDigest: trial.digest, trial: { ...trial, releaseId: deployment.releaseId, switchedSeq: switched.seq, until: switched.at + timing.settleMs }, updatedAt: now };
  }
  const on = current.trial!;
  if (view.currentRelease !== on.releaseId) return { do: 'drop', reason: 'another deploy replaced the update before it settled', state: { ...current, trial: null, updatedAt: now } };
  if (view.trouble !== undefined) {
    return { do: 'revert', digest: on.digest, reason: view.trouble, state: { ...current, trial: null, pinnedDigest: on.digest, nextCheckAt: now + timing.intervalMs, updatedAt: now } };
  }
  if (now >= on.until!) return { do: 'settled', state: { ...current, trial: null, updatedAt: now } };
  return { do: 'wait', state: current };
}

/** `sha256:0123456789ab`: a digest as people read it. */
export const shortDigest = (digest: string): string => digest.slice(0, digest.indexOf(':') + 13);

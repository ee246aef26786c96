import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeploymentState } from '../model/states.ts';
import type { ImageUpdateRecord, UpdateTrial } from '../store/image-updates.ts';
import { afterCheck, checkDue, freshState, judgeTrial, RETRY_FAILED_DEPLOY_MS, shortDigest, trialStarted, type RegistryAnswer, type TrialView } from './update-policy.ts';

/** The auto-update policy, pure: every verdict from plain values and a given time. */
const D = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const timing = { intervalMs: 5_000, settleMs: 60_000 };
const base = (fields: Partial<ImageUpdateRecord> = {}): ImageUpdateRecord => ({ ...freshState({ app: 'shop', service: null, image: 'reg.test/acme/web:1', now: 0 }), ...fields });

describe('a check', () => {
  const unreachable = { code: 'REGISTRY_UNREACHABLE', message: 'cannot reach registry reg.test: connection refused' };
  const cases: { name: string; state: ImageUpdateRecord; serving: string | null; answer: RegistryAnswer; verdict: string; report?: boolean; digest?: string }[] = [
    { name: 'the tag still names the digest serving: nothing', state: base(), serving: D(1), answer: { digest: D(1) }, verdict: 'nothing' },
    { name: 'a new digest: deploy it', state: base(), serving: D(1), answer: { digest: D(2) }, verdict: 'deploy', digest: D(2) },
    { name: 'the pinned bad digest: skipped', state: base({ pinnedDigest: D(2) }), serving: D(1), answer: { digest: D(2) }, verdict: 'nothing' },
    { name: 'a digest newer than the pinned one: deploy it', state: base({ pinnedDigest: D(2) }), serving: D(1), answer: { digest: D(3) }, verdict: 'deploy', digest: D(3) },
    { name: 'nothing known serving (a local image): the registry\'s digest is deployed', state: base(), serving: null, answer: { digest: D(1) }, verdict: 'deploy', digest: D(1) },
    { name: 'the first failure is reported', state: base(), serving: D(1), answer: { error: unreachable }, verdict: 'record-failure', report: true },
    { name: 'the same failure again is only recorded', state: base({ lastError: unreachable }), serving: D(1), answer: { error: unreachable }, verdict: 'record-failure', report: false },
    { name: 'a failure for another reason is reported', state: base({ lastError: unreachable }), serving: D(1), answer: { error: { code: 'REGISTRY_AUTH_FAILED', message: 'refused' } }, verdict: 'record-failure', report: true },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const verdict = afterCheck(c.state, { serving: c.serving, answer: c.answer, now: 10_000, timing });
      assert.equal(verdict.do, c.verdict);
      assert.equal(verdict.state.lastCheckAt, 10_000);
      assert.equal(verdict.state.nextCheckAt, 15_000, 'the next check one interval later');
      assert.equal(verdict.state.servingDigest, c.serving);
      if (verdict.do === 'record-failure') {
        assert.equal(verdict.report, c.report);
        assert.deepEqual(verdict.state.lastError, 'error' in c.answer ? c.answer.error : null);
      } else assert.equal(verdict.state.lastError, null, 'an answer clears the last error');
      if (verdict.do === 'deploy') assert.equal(verdict.digest, c.digest);
      assert.equal(verdict.state.pinnedDigest, c.state.pinnedDigest, 'a check alone never changes the pin');
    });
  }

  test('a check is due at its time, never while an update is on trial', () => {
    assert.equal(checkDue(base({ nextCheckAt: 5_000 }), 4_999), false);
    assert.equal(checkDue(base({ nextCheckAt: 5_000 }), 5_000), true);
    assert.equal(checkDue(trialStarted(base(), D(2), 'dep_1', 0), 99_000), false);
  });

  test('starting an update puts the digest on trial and forgets the older pinned one', () => {
    const state = trialStarted(base({ pinnedDigest: D(2) }), D(3), 'dep_9', 7);
    assert.deepEqual(state.trial, { digest: D(3), deploymentId: 'dep_9', releaseId: null, switchedSeq: null, until: null });
    assert.equal(state.pinnedDigest, null);
  });
});

describe('an update on trial', () => {
  const deploying: UpdateTrial = { digest: D(2), deploymentId: 'dep_u', releaseId: null, switchedSeq: null, until: null };
  const settling: UpdateTrial = { ...deploying, releaseId: 'rel_new', switchedSeq: 40, until: 70_000 };
  const view = ({ state, code, ...fields }: Partial<TrialView> & { state?: DeploymentState; code?: string }): TrialView => ({
    deployment: { state: state ?? 'draining', errorCode: code ?? null, errorMessage: code ? `it failed (${code})` : null, releaseId: 'rel_new' },
    switched: { seq: 40, at: 10_000 },
    currentRelease: 'rel_new',
    trouble: undefined,
    ...fields,
  });
  const cases: { name: string; trial: UpdateTrial; view: TrialView; now: number; verdict: string; pinned?: string | null; nextCheckAt?: number; until?: number | null }[] = [
    { name: 'still deploying: wait', trial: deploying, view: view({ state: 'verifying', switched: undefined }), now: 3_000, verdict: 'wait', until: null },
    { name: 'the gate failed: pin the digest', trial: deploying, view: view({ state: 'failed', code: 'HEALTH_CHECK_FAILED', switched: undefined, currentRelease: 'rel_old' }), now: 3_000, verdict: 'pin', pinned: D(2), nextCheckAt: 8_000 },
    { name: 'the release command failed: pin the digest', trial: deploying, view: view({ state: 'failed', code: 'RELEASE_FAILED', switched: undefined }), now: 3_000, verdict: 'pin', pinned: D(2) },
    { name: 'the daemon stopped mid-deploy: no pin, the next interval tries again', trial: deploying, view: view({ state: 'interrupted', switched: undefined }), now: 3_000, verdict: 'drop', pinned: null, nextCheckAt: 8_000 },
    { name: 'the pull failed at the registry: no pin, tried again later', trial: deploying, view: view({ state: 'failed', code: 'REGISTRY_UNREACHABLE', switched: undefined }), now: 3_000, verdict: 'drop', pinned: null, nextCheckAt: 3_000 + RETRY_FAILED_DEPLOY_MS },
    { name: 'just switched: the settle window starts at the switch', trial: deploying, view: view({}), now: 11_000, verdict: 'wait', until: 70_000 },
    { name: 'switched with settle 0s: settled at once', trial: deploying, view: view({}), now: 11_000, verdict: 'settled' },
    { name: 'trouble within the window: revert and pin', trial: settling, view: view({ trouble: 'web.0 keeps crashing' }), now: 30_000, verdict: 'revert', pinned: D(2), nextCheckAt: 35_000 },
    { name: 'trouble seen on the very pass that notices the switch: revert', trial: deploying, view: view({ trouble: 'web.0 failed its health checks' }), now: 30_000, verdict: 'revert', pinned: D(2) },
    { name: 'quiet within the window: wait', trial: settling, view: view({}), now: 69_999, verdict: 'wait', until: 70_000 },
    { name: 'the window is over: settled', trial: settling, view: view({ state: 'succeeded' }), now: 70_000, verdict: 'settled', pinned: null },
    { name: 'another deploy replaced it: no revert, no pin', trial: settling, view: view({ currentRelease: 'rel_manual', trouble: 'web.0 keeps crashing' }), now: 30_000, verdict: 'drop', pinned: null },
    { name: 'the deployment is gone: dropped', trial: settling, view: view({ deployment: undefined }), now: 30_000, verdict: 'drop' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const t = c.name.includes('settle 0s') ? { ...timing, settleMs: 0 } : timing;
      // Once switched (until set), the state already says the new digest serves.
      const verdict = judgeTrial(base({ trial: c.trial, servingDigest: c.trial.until === null ? D(1) : D(2) }), c.view, c.now, t);
      assert.equal(verdict.do, c.verdict);
      if (c.pinned !== undefined) assert.equal(verdict.state.pinnedDigest, c.pinned);
      if (c.nextCheckAt !== undefined) assert.equal(verdict.state.nextCheckAt, c.nextCheckAt);
      if (c.until !== undefined) assert.equal(verdict.state.trial?.until ?? null, c.until);
      if (verdict.do === 'wait') assert.notEqual(verdict.state.trial, null, 'a trial that waits stays');
      else assert.equal(verdict.state.trial, null, 'any other verdict ends the trial');
      if (verdict.do === 'pin' || verdict.do === 'revert') assert.equal(verdict.digest, D(2));
      if (verdict.do === 'wait' || verdict.do === 'settled') {
        const switched = c.view.deployment?.state === 'draining' || c.view.deployment?.state === 'succeeded';
        assert.equal(verdict.state.servingDigest, switched ? D(2) : D(1), 'the new digest serves from its switch on');
      }
    });
  }

  test('a switch recorded once is kept: the window does not move on later passes', () => {
    const first = judgeTrial(base({ trial: deploying }), view({}), 11_000, timing);
    assert.equal(first.do, 'wait');
    assert.deepEqual(first.state.trial, { ...deploying, releaseId: 'rel_new', switchedSeq: 40, until: 70_000 });
    const later = judgeTrial(first.state, view({ switched: { seq: 99, at: 50_000 } }), 60_000, timing);
    assert.equal(later.state.trial!.until, 70_000);
  });

  test('shortDigest keeps the algorithm and 12 hex digits', () => {
    assert.equal(shortDigest(D(7)), 'sha256:777777777777');
  });
});

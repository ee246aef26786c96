/**
 * The policy gate before a deploy (src/policy): run after the release is recorded, because its facts
 * (version, image, env names, processes with replicas) exist only then, and before the services, the
 * release command or any instance start, so a deny changes nothing that serves: the build step's undo
 * removes the artifact and marks the release failed. A rollback is not gated: it is the way back, and a
 * full disk or a busy machine must not keep a bad release serving.
 */
import { fail } from '../errors/catalogue.ts';
import type { ReleaseRecord } from '../model/records.ts';
import { describeProblem } from '../policy/specs.ts';
import type { Manifest } from '../manifest/schema.ts';
import type { Verdict } from '../policy/protocol.ts';
import { emit } from './emit.ts';
import { releaseVars } from './releases.ts';
import { withFormation } from './formation.ts';
import type { Run } from './steps.ts';

export const sourceText = (v: Pick<Verdict, 'source'>): string => `${v.source.file}${v.source.line !== null ? `:${v.source.line}` : ''}`;

/** The release's facts: names of its env vars (never values), each process's replicas. */
export function releaseFacts(run: Pick<Run, 'ctx'>, release: ReleaseRecord) {
  const manifest = withFormation(release.manifest, release.formation);
  return {
    version: release.version,
    image: manifest.image ?? null,
    // berth.yaml's `env` and the vars set with `berth env`, by name only.
    env: [...new Set([...Object.keys(manifest.env), ...Object.keys(releaseVars(run.ctx, release))])].sort(),
    processes: Object.fromEntries(Object.entries(manifest.processes).map(([name, spec]) => [name, spec.replicas])),
    // The checks it passed (./checks.ts): none when its deploy skipped them; a rollback's as its release recorded.
    checks: [...(release.checks?.passed ?? [])],
  };
}

/**
 * berth.yaml's `policies:` compiled when the upload is checked, so CEL that does not parse or names an
 * unknown fact refuses the deploy before anything is recorded (the gate would refuse it after the build).
 * The policy worker compiles them (src/policy/engine.ts); a server without a gate judges no policies, so
 * it has nothing to check them with or for.
 */
export async function checkAppPolicies(ctx: Pick<Run['ctx'], 'policies'>, manifest: Manifest): Promise<void> {
  if (!ctx.policies || !manifest.policies?.length) return;
  const problems = await ctx.policies.checkApp(manifest.policies);
  if (problems.length) throw fail('POLICY_INVALID', { problems: problems.map(describeProblem) });
}

/**
 * Every verdict as a `policy.verdict` event of the deployment, and each deny also as `policy.violation`
 * (the audit report's table), in one transaction. The canary work records its verdicts through this too.
 */
export function recordVerdicts(ctx: Run['ctx'], where: { app: string; deploymentId: string }, verdicts: readonly Verdict[], action: string): void {
  ctx.store.transaction(() => {
    for (const v of verdicts) {
      const source = sourceText(v);
      emit(ctx, where, {
        type: 'policy.verdict',
        message: `policy ${v.policy}: ${v.allowed ? 'allowed' : `denied: ${v.reason}`}`,
        data: { policy: v.policy, when: v.when, allowed: v.allowed, reason: v.reason, source, facts: v.facts },
      });
      if (!v.allowed) emit(ctx, where, { type: 'policy.violation', message: `policy ${v.policy} denied ${action}: ${v.reason}`, data: { check: v.policy, reason: v.reason, deployment: where.deploymentId } });
    }
  });
}

/** Judges the deploy moment's policies; every verdict is an event, a deny fails the deploy (POLICY_DENIED). */
export async function policyStep(run: Run, release: ReleaseRecord): Promise<void> {
  const gate = run.ctx.policies;
  if (!gate || run.deployment.kind === 'rollback') return;
  const judged = await gate.judge('deploy', { app: { name: release.app }, release: releaseFacts(run, release) }, release.manifest.policies);
  if (judged.problems.length) throw fail('POLICY_INVALID', { problems: judged.problems.map(describeProblem) });
  recordVerdicts(run.ctx, { app: run.deployment.app, deploymentId: run.deployment.id }, judged.verdicts, 'the deploy');
  const denied = judged.verdicts.find((v) => !v.allowed);
  if (denied) throw fail('POLICY_DENIED', { policy: denied.policy, reason: denied.reason, source: sourceText(denied) });
}

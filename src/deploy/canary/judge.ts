/**
 * One look at the canary: the proxy's per-release counters read, the step's window computed from two
 * readings (./analysis.ts), and the policies of the moment asked about it. Every verdict is recorded as
 * a deploy's are (`policy.verdict`, a deny also `policy.violation` for the audit report) and the whole
 * judgement as `canary.verdict`, numbers included.
 */
import { fail } from '../../errors/catalogue.ts';
import type { ReleaseRecord } from '../../model/records.ts';
import type { CanaryFigures, CanaryJudgement } from '../../model/wire-rollout.ts';
import { describeProblem } from '../../policy/specs.ts';
import type { RolloutRecord } from '../../store/rollouts.ts';
import { emit } from '../emit.ts';
import { recordVerdicts, releaseFacts } from '../policy-step.ts';
import type { Run } from '../steps.ts';
import { countersOf, denialText, figuresText, trafficFacts, windowFigures, type Counters } from './analysis.ts';

/** Both sides' cumulative counters at one moment. */
export interface Reading {
  at: number;
  canary: Counters | null;
  stable: Counters | null;
}

/** The proxy's counters now; null when the proxy does not answer (no verdict then: the step waits). */
export async function readCounters(run: Run, release: ReleaseRecord, stable: ReleaseRecord): Promise<Reading | null> {
  try {
    const stats = await run.ctx.dataplane.stats();
    return { at: run.ctx.clock.now(), canary: countersOf(stats.releases, release.app, `v${release.version}`), stable: countersOf(stats.releases, stable.app, `v${stable.version}`) };
  } catch (error) {
    run.ctx.log.warn('the canary analysis could not read the proxy\'s numbers', { app: release.app, error: error as Error });
    return null;
  }
}

/** The step's window: what each side did between `base` and `reading`. */
export function windowBetween(base: Reading, reading: Reading): { canary: CanaryFigures; stable: CanaryFigures } {
  const ms = reading.at - base.at;
  return { canary: windowFigures(base.canary, reading.canary, ms), stable: windowFigures(base.stable, reading.stable, ms) };
}

export interface Judged {
  judgement: CanaryJudgement;
  /** The first deny in words with the numbers (./analysis.ts `denialText`); null when every policy allowed. */
  denial: string | null;
}

/** The moment's policies judged on the window; a policy that does not load denies (fails closed). */
export async function judgeCanary(
  run: Run,
  o: { moment: 'canary_step' | 'promote'; release: ReleaseRecord; rollout: RolloutRecord; window: { canary: CanaryFigures; stable: CanaryFigures } },
): Promise<Judged> {
  const { ctx } = run;
  const where = { app: run.deployment.app, deploymentId: run.deployment.id };
  const { canary, stable } = o.window;
  const facts = { app: { name: o.release.app }, release: releaseFacts(run, o.release), canary: trafficFacts(canary), stable: trafficFacts(stable) };
  const judged = ctx.policies ? await ctx.policies.judge(o.moment, facts, o.release.manifest.policies) : { verdicts: [], problems: [] };
  if (judged.problems.length) throw fail('POLICY_INVALID', { problems: judged.problems.map(describeProblem) });
  const step = `${o.rollout.step + 1}/${o.rollout.steps}`;
  recordVerdicts(ctx, where, judged.verdicts, o.moment === 'promote' ? `the promotion of canary v${o.release.version}` : `canary v${o.release.version} at step ${step}`);
  const denied = judged.verdicts.find((v) => !v.allowed);
  const judgement: CanaryJudgement = {
    at: new Date(ctx.clock.now()).toISOString(),
    moment: o.moment,
    allowed: denied === undefined,
    canary,
    stable,
    verdicts: judged.verdicts.map((v) => ({ policy: v.policy, allowed: v.allowed, reason: v.reason })),
  };
  const denial = denied ? denialText(denied, canary, stable) : null;
  emit(ctx, where, {
    type: 'canary.verdict',
    message: `${o.moment === 'promote' ? 'promotion' : `step ${step}`}: ${denial === null ? `allowed: ${figuresText(canary)}` : `denied: ${denial}`}`,
    data: { canary: `v${o.release.version}`, step: o.rollout.step + 1, steps: o.rollout.steps, moment: o.moment, allowed: denial === null, canaryFigures: canary, stableFigures: stable, policies: judgement.verdicts },
  });
  return { judgement, denial };
}

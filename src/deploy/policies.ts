/**
 * The use cases behind `berth policy list` and `berth policy check` (plain input, records out, catalogue
 * errors). The check is a dry run: it judges what the deploy gate (./policy-step.ts) would judge now,
 * against the serving release, and writes no event (verdict events are for decisions that happened).
 */
import type { Verdict } from '../policy/protocol.ts';
import type { LoadedPolicy, LoadProblem } from '../policy/specs.ts';
import { requireApp } from './apps.ts';
import type { DeployContext } from './context.ts';
import { releaseFacts } from './policy-step.ts';
import { requireCurrentRelease } from './releases.ts';

export interface PolicyListing {
  app: string | null;
  policies: { policy: LoadedPolicy; scope: 'server' | 'app' }[];
  problems: LoadProblem[];
}

/** The server's policies and, with `app`, those of its serving release's berth.yaml (none before its first deploy). */
export async function listPolicies(ctx: DeployContext, app?: string): Promise<PolicyListing> {
  if (app !== undefined) requireApp(ctx, app);
  const serving = app !== undefined ? ctx.store.apps.get(app)?.currentRelease : undefined;
  const release = serving ? ctx.store.releases.get(serving) : undefined;
  if (!ctx.policies) return { app: app ?? null, policies: [], problems: [] };
  const loaded = await ctx.policies.policies(release?.manifest.policies ?? []);
  return {
    app: app ?? null,
    policies: loaded.policies.map((policy) => ({ policy, scope: policy.source.file === 'berth.yaml' ? 'app' : 'server' })),
    problems: loaded.problems,
  };
}

export interface PolicyCheckResult {
  app: string;
  release: string;
  allowed: boolean;
  verdicts: Verdict[];
  problems: LoadProblem[];
}

/** The deploy moment's policies judged now, against the host and the app's serving release. */
export async function checkPolicies(ctx: DeployContext, app: string): Promise<PolicyCheckResult> {
  requireApp(ctx, app);
  const release = requireCurrentRelease(ctx, app);
  const judged = ctx.policies ? await ctx.policies.judge('deploy', { app: { name: app }, release: releaseFacts({ ctx }, release) }, release.manifest.policies ?? []) : { verdicts: [], problems: [] };
  return {
    app,
    release: `v${release.version}`,
    allowed: judged.problems.length === 0 && judged.verdicts.every((v) => v.allowed),
    verdicts: judged.verdicts,
    problems: judged.problems,
  };
}

/**
 * Policies judged against facts: pure. A policy whose expression errors at run time (a missing map
 * key, a division by zero, a type error the load-time trial did not reach) denies: a gate that cannot
 * decide must not wave a deploy or a promotion through. Runs in the policy worker (./worker.ts), which
 * the daemon stops when a judgement outlives its budget (./engine.ts).
 */
import { isCelError } from '@bufbuild/cel';
import type { CompiledPolicy } from './compile.ts';
import { bindingsOf, shownValue, type Facts, type Moment } from './facts.ts';
import { JUDGEMENT_BUDGET_MS, unjudged, type Verdict } from './protocol.ts';

export { JUDGEMENT_BUDGET_MS, type Verdict };

const MAX_REASON = 500;

export function evaluate(policy: CompiledPolicy, facts: Facts): Verdict {
  const bindings = bindingsOf(facts);
  const used = Object.fromEntries(policy.facts.map((name) => [name, shownValue(bindings[name] ?? null)]));
  const base = { policy: policy.name, when: policy.when, source: policy.source, facts: used };
  let result;
  try {
    result = policy.run(bindings);
  } catch (error) {
    result = error;
  }
  if (isCelError(result) || result instanceof Error) {
    return { ...base, allowed: false, reason: `${policy.message} (the policy failed, so it denies: ${(result as Error).message.slice(0, MAX_REASON)})` };
  }
  if (typeof result !== 'boolean') return { ...base, allowed: false, reason: `${policy.message} (the policy gave no true/false, so it denies)` };
  return { ...base, allowed: result, reason: result ? 'passed' : policy.message.slice(0, MAX_REASON) };
}

/** The verdict of a policy not judged because those before it used the budget up. */
export const overBudget = (p: Parameters<typeof unjudged>[0], budgetMs: number): Verdict => unjudged(p, `not judged, so it denies: the policies before it took over ${budgetMs} ms`);

/**
 * Every policy of a moment judged, in order; past the budget the policies left deny without running.
 * `each` sees every verdict as it is reached (the worker sends them one by one, so a policy the daemon
 * has to stop does not take the verdicts before it along).
 */
export function evaluateAll(policies: readonly CompiledPolicy[], moment: Moment, facts: Facts, budgetMs = JUDGEMENT_BUDGET_MS, each?: (v: Verdict) => void): Verdict[] {
  // CPU time, not wall time: on a busy machine a cheap policy may wait for a core, and must not deny for it.
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const started = cpuMs();
  return policies
    .filter((p) => p.when === moment)
    .map((p, i) => {
      const v = i > 0 && cpuMs() - started > budgetMs ? overBudget(p, budgetMs) : evaluate(p, facts);
      each?.(v);
      return v;
    });
}

/**
 * Policies judged against facts: pure. A policy whose expression errors at run time (a missing map
 * key, a division by zero, a type error the load-time trial did not reach) denies: a gate that cannot
 * decide must not wave a deploy or a promotion through.
 */
import { isCelError } from '@bufbuild/cel';
import type { CompiledPolicy } from './compile.ts';
import { bindingsOf, shownValue, type Facts, type Moment } from './facts.ts';

export interface Verdict {
  policy: string;
  when: Moment;
  allowed: boolean;
  /** The policy's message on a deny, "passed" on an allow, what went wrong on an error. */
  reason: string;
  source: { file: string; line: number | null };
  /** The facts the expression reads and their values (names of env vars only, never values). */
  facts: Record<string, unknown>;
}

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

/**
 * The most time one judgement spends (evaluation is synchronous, on the daemon's event loop): each
 * expression is bounded (./compile.ts), and past this budget the policies left deny without running.
 */
export const JUDGEMENT_BUDGET_MS = 1000;

/** Every policy of a moment judged, in order. */
export function evaluateAll(policies: readonly CompiledPolicy[], moment: Moment, facts: Facts, budgetMs = JUDGEMENT_BUDGET_MS): Verdict[] {
  const started = performance.now();
  return policies
    .filter((p) => p.when === moment)
    .map((p, i) =>
      i > 0 && performance.now() - started > budgetMs
        ? { policy: p.name, when: p.when, source: p.source, facts: {}, allowed: false, reason: `${p.message} (not judged, so it denies: the policies before it took over ${budgetMs} ms)` }
        : evaluate(p, facts),
    );
}

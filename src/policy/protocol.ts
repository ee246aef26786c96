/**
 * What crosses between the daemon's thread (./engine.ts) and the policy worker (./worker.ts): plain,
 * structured-clonable data only. Facts go as the daemon has them (numbers, strings, arrays, records);
 * the worker turns them into CEL's bigints and Maps (./facts.ts bindingsOf). No CEL here.
 */
import type { Facts, Moment } from './facts.ts';
import type { PolicySpec } from './specs.ts';

/**
 * The most time one judgement spends: every expression is bounded (./compile.ts); past this budget the
 * policy still running is stopped (its worker terminated) and denies, and those after it deny unjudged.
 */
export const JUDGEMENT_BUDGET_MS = 1000;

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

/** A policy's expression checked: the facts it reads, or why it is refused. */
export type Outcome = { facts: string[] } | { problem: string };

/** The two questions: check expressions (load time), judge a moment's policies against facts. */
export type Request =
  | { id: number; op: 'check'; items: Pick<PolicySpec, 'when' | 'expr'>[] }
  | { id: number; op: 'judge'; moment: Moment; items: PolicySpec[]; facts: Facts; budgetMs: number };

/** The worker's messages: once `ready` when it has loaded, then one `item` per policy in order, then `done`. */
export type Reply = { ready: true } | { id: number; item: Outcome | Verdict } | { id: number; done: true };

/** A policy's verdict when it was not judged: it denies, saying why. */
export function unjudged(spec: Pick<PolicySpec, 'name' | 'when' | 'source' | 'message'>, why: string, facts: Record<string, unknown> = {}): Verdict {
  return { policy: spec.name, when: spec.when, source: spec.source, facts, allowed: false, reason: `${spec.message} (${why})` };
}

/**
 * Policy entries as written (a file of DATA/policies, or berth.yaml's `policies:`) checked field by
 * field, then settled with their expressions' outcomes (the policy worker compiles those: ./engine.ts).
 * Every problem names the file, the policy (or its position) and the line, and all problems of a file
 * are reported at once rather than the first only, in the order of its entries. No CEL here: the
 * daemon's thread runs this.
 */
import { MOMENTS, type Moment } from './facts.ts';
import type { Outcome } from './protocol.ts';

/** The most policies berth keeps: server files and an app's together. */
export const MAX_POLICIES = 200;
export const POLICY_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
export const MAX_MESSAGE = 500;

export interface PolicySpec {
  name: string;
  when: Moment;
  expr: string;
  message: string;
  /** Where it was written: a file of DATA/policies or berth.yaml, and the line of its entry when known. */
  source: { file: string; line: number | null };
}

/** A policy that loaded: its spec and the facts its expression reads (what `berth policy list` shows). */
export interface LoadedPolicy extends PolicySpec {
  facts: string[];
}

export interface LoadProblem {
  file: string;
  /** The policy's name, or `#3` (its position) when it has no usable name; null for the file as a whole. */
  policy: string | null;
  line: number | null;
  problem: string;
}

export interface Loaded {
  policies: LoadedPolicy[];
  problems: LoadProblem[];
}

/** One entry after its fields were checked: a spec whose expression is still to be compiled, or a problem. */
export type Entry = { spec: PolicySpec } | { problem: LoadProblem };

const FIELDS = new Set(['name', 'when', 'expr', 'message']);

/** Entries (plain data) to specs and problems, in order. `lineOf(i)`: the line of entry i (-1: the list), when known. */
export function checkEntries(entries: unknown, file: string, lineOf: (index: number) => number | null): Entry[] {
  if (entries === null || entries === undefined) return [];
  if (!Array.isArray(entries)) return [{ problem: { file, policy: null, line: lineOf(-1), problem: '`policies` must be a list of { name, when, expr, message }' } }];
  if (entries.length > MAX_POLICIES) return [{ problem: { file, policy: null, line: lineOf(-1), problem: `${entries.length} policies; at most ${MAX_POLICIES}` } }];
  const out: Entry[] = [];
  const seen = new Set<string>();
  entries.forEach((entry: unknown, index) => {
    const line = lineOf(index);
    const label = typeof (entry as { name?: unknown })?.name === 'string' ? String((entry as { name: string }).name).slice(0, 64) : `#${index + 1}`;
    const problem = (text: string) => out.push({ problem: { file, policy: label, line, problem: text } });
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return problem('each policy is a mapping with name, when, expr and message');
    const e = entry as Record<string, unknown>;
    const extra = Object.keys(e).filter((k) => !FIELDS.has(k));
    if (extra.length) return problem(`unknown key ${extra.map((k) => `"${k.slice(0, 40)}"`).join(', ')}; a policy has name, when, expr and message`);
    const missing = [...FIELDS].filter((k) => typeof e[k] !== 'string' || (e[k] as string).trim() === '');
    if (missing.length) return problem(`missing or not text: ${missing.join(', ')}`);
    const name = e.name as string;
    if (!POLICY_NAME.test(name)) return problem('name: 1 to 63 lowercase letters, digits, `-`, `_` and `.`, starting with a letter or digit');
    if (seen.has(name)) return problem(`name "${name}" is used twice in ${file}`);
    seen.add(name);
    if (!MOMENTS.includes(e.when as Moment)) return problem(`when: "${String(e.when).slice(0, 40)}" is not a moment; use ${MOMENTS.join(', ')}`);
    if ((e.message as string).length > MAX_MESSAGE) return problem(`message is longer than ${MAX_MESSAGE} characters`);
    out.push({ spec: { name, when: e.when as Moment, expr: e.expr as string, message: e.message as string, source: { file, line } } });
  });
  return out;
}

/** The specs among entries, for the worker to compile. */
export const specsOf = (entries: readonly Entry[]): PolicySpec[] => entries.flatMap((e) => ('spec' in e ? [e.spec] : []));

/** Entries with their specs' outcomes (`outcomes[i]` for the i-th spec) as policies and problems, in order. */
export function settle(entries: readonly Entry[], outcomes: readonly Outcome[]): Loaded {
  const out: Loaded = { policies: [], problems: [] };
  let i = 0;
  for (const entry of entries) {
    if ('problem' in entry) {
      out.problems.push(entry.problem);
      continue;
    }
    const outcome = outcomes[i++];
    const { spec } = entry;
    if (!outcome) out.problems.push({ file: spec.source.file, policy: spec.name, line: spec.source.line, problem: 'expr was not checked' });
    else if ('problem' in outcome) out.problems.push({ file: spec.source.file, policy: spec.name, line: spec.source.line, problem: outcome.problem });
    else out.policies.push({ ...spec, facts: outcome.facts });
  }
  return out;
}

/** A problem as one line: `policies/x.yaml:12: policy "disk": unknown fact ...`. */
export function describeProblem(p: LoadProblem): string {
  return `${p.file}${p.line !== null ? `:${p.line}` : ''}: ${p.policy !== null ? `policy "${p.policy}": ` : ''}${p.problem}`;
}

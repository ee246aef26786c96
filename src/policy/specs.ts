/**
 * Policy entries as written (a file of DATA/policies, or berth.yaml's `policies:`) checked field by
 * field and compiled. Every problem names the file, the policy (or its position) and the line, and
 * all problems of a file are reported at once rather than the first only.
 */
import { compilePolicy, PolicyProblem, type CompiledPolicy, type PolicySpec } from './compile.ts';
import { MOMENTS, type Moment } from './facts.ts';

/** The most policies berth keeps: server files and an app's together. */
export const MAX_POLICIES = 200;
export const POLICY_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
export const MAX_MESSAGE = 500;

export interface LoadProblem {
  file: string;
  /** The policy's name, or `#3` (its position) when it has no usable name; null for the file as a whole. */
  policy: string | null;
  line: number | null;
  problem: string;
}

export interface Loaded {
  policies: CompiledPolicy[];
  problems: LoadProblem[];
}

const FIELDS = new Set(['name', 'when', 'expr', 'message']);

/** Entries (plain data) to compiled policies and problems. `lineOf(i)`: the line of entry i, when known. */
export function compileEntries(entries: unknown, file: string, lineOf: (index: number) => number | null): Loaded {
  const out: Loaded = { policies: [], problems: [] };
  if (entries === null || entries === undefined) return out;
  if (!Array.isArray(entries)) {
    out.problems.push({ file, policy: null, line: lineOf(-1), problem: '`policies` must be a list of { name, when, expr, message }' });
    return out;
  }
  if (entries.length > MAX_POLICIES) {
    out.problems.push({ file, policy: null, line: lineOf(-1), problem: `${entries.length} policies; at most ${MAX_POLICIES}` });
    return out;
  }
  const seen = new Set<string>();
  entries.forEach((entry: unknown, index) => {
    const line = lineOf(index);
    const label = typeof (entry as { name?: unknown })?.name === 'string' ? String((entry as { name: string }).name).slice(0, 64) : `#${index + 1}`;
    const problem = (text: string) => out.problems.push({ file, policy: label, line, problem: text });
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
    const spec: PolicySpec = { name, when: e.when as Moment, expr: e.expr as string, message: e.message as string, source: { file, line } };
    try {
      out.policies.push(compilePolicy(spec));
    } catch (error) {
      if (!(error instanceof PolicyProblem)) throw error;
      problem(error.message);
    }
  });
  return out;
}

/** A problem as one line: `policies/x.yaml:12: policy "disk": unknown fact ...`. */
export function describeProblem(p: LoadProblem): string {
  return `${p.file}${p.line !== null ? `:${p.line}` : ''}: ${p.policy !== null ? `policy "${p.policy}": ` : ''}${p.problem}`;
}

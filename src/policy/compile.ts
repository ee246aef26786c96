/**
 * A policy's CEL expression made ready to run, or refused with the reason. @bufbuild/cel parses and
 * evaluates; its type checker is not part of its public API (0.6), so berth checks what it can before a
 * policy is accepted: every name the expression reads must be a fact of its moment (walked on the AST, so
 * the problem names the fact and its column), the expression is bounded (length, nodes, comprehension
 * depth, with fact lists cut at MAX_FACT_ENTRIES), and a trial run on typed sample facts must give a bool
 * without a type error. A type error hidden behind `&&`/`||` that the samples do not reach surfaces at run
 * time instead, where it fails closed (./evaluate.ts). These bounds do not bound the cost: macros chained
 * one after another (`.map(b, b + b)` twenty times) double it at each link, so hours of CPU or gigabytes
 * fit in 341 characters. The hard stop is the policy worker's budget and heap (./engine.ts).
 *
 * Runs in the policy worker only (./worker.ts): the daemon's thread never loads CEL (./engine.ts).
 */
import { celEnv, isCelError, parse, plan, type CelEnv, type CelResult } from '@bufbuild/cel';
import { celType } from './cel-types.ts';
import { FACTS, factNames, type Moment } from './facts.ts';
import type { PolicySpec } from './specs.ts';

export const MAX_EXPR_CHARS = 1024;
export const MAX_EXPR_NODES = 300;
/** One level: a macro inside a macro over two fact lists would cost MAX_FACT_ENTRIES squared per evaluation. */
export const MAX_COMPREHENSION_DEPTH = 1;

export type { PolicySpec };

export interface CompiledPolicy extends PolicySpec {
  /** The facts the expression reads, for the verdict's event. */
  facts: string[];
  run(bindings: Record<string, unknown>): CelResult;
}

/** A reason a policy is refused, with the column in the expression when there is one. */
export class PolicyProblem extends Error {}

type Expr = ReturnType<typeof parse>['expr'];

const envs = new Map<Moment, CelEnv>();
function envFor(moment: Moment): CelEnv {
  let env = envs.get(moment);
  if (!env) {
    env = celEnv({ variables: Object.fromEntries(factNames(moment).map((name) => [name, celType(FACTS[name]!.type)])) });
    envs.set(moment, env);
  }
  return env;
}

/** `a.b.c` for a select chain ending in an identifier; null for anything else (a call's result, a literal). */
function qualified(expr: Expr): string | null {
  const kind = expr.exprKind;
  if (kind.case === 'identExpr') return kind.value.name;
  if (kind.case === 'selectExpr' && kind.value.operand && !kind.value.testOnly) {
    const base = qualified(kind.value.operand);
    return base === null ? null : `${base}.${kind.value.field}`;
  }
  return null;
}

/** The identifier a select chain starts from: where the name begins in the text. */
function rootOf(expr: Expr): Expr {
  const kind = expr.exprKind;
  return kind.case === 'selectExpr' && kind.value.operand ? rootOf(kind.value.operand) : expr;
}

interface Walk {
  moment: Moment;
  known: Set<string>;
  used: Set<string>;
  nodes: number;
  column: (id: bigint) => number | null;
}

function walk(expr: Expr | undefined, w: Walk, bound: ReadonlySet<string>, depth: number): void {
  if (!expr) return;
  if (++w.nodes > MAX_EXPR_NODES) throw new PolicyProblem(`the expression is too complex (more than ${MAX_EXPR_NODES} parts); split it into several policies`);
  const name = qualified(expr);
  if (name !== null && !bound.has(name.split('.')[0]!)) {
    // The longest declared prefix is the fact read; `host.cores.foo` selects into an int and fails at the trial run.
    const parts = name.split('.');
    for (let n = parts.length; n > 0; n--) {
      const candidate = parts.slice(0, n).join('.');
      if (w.known.has(candidate)) {
        w.used.add(candidate);
        return;
      }
    }
    const col = w.column(rootOf(expr).id);
    const where = col === null ? '' : ` (column ${col})`;
    const other = FACTS[name] ? `; it exists only at ${FACTS[name]!.moments.join(', ')}` : '';
    throw new PolicyProblem(`unknown fact "${name}"${where} at moment ${w.moment}${other}; known: ${[...w.known].join(', ')}`);
  }
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'selectExpr':
      return walk(kind.value.operand, w, bound, depth);
    case 'callExpr':
      walk(kind.value.target, w, bound, depth);
      for (const arg of kind.value.args) walk(arg, w, bound, depth);
      return;
    case 'listExpr':
      for (const element of kind.value.elements) walk(element, w, bound, depth);
      return;
    case 'structExpr':
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === 'mapKey') walk(entry.keyKind.value, w, bound, depth);
        walk(entry.value, w, bound, depth);
      }
      return;
    case 'comprehensionExpr': {
      const c = kind.value;
      if (depth + 1 > MAX_COMPREHENSION_DEPTH) throw new PolicyProblem(`a macro (all, exists, exists_one, map, filter) cannot hold another: write two policies, or combine the results with &&`);
      walk(c.iterRange, w, bound, depth);
      walk(c.accuInit, w, bound, depth);
      const inner = new Set([...bound, c.iterVar, c.iterVar2, c.accuVar].filter(Boolean));
      walk(c.loopCondition, w, inner, depth + 1);
      walk(c.loopStep, w, inner, depth + 1);
      walk(c.result, w, inner, depth + 1);
      return;
    }
    default:
      return;
  }
}

const TYPE_ERROR = /no matching overload|unbound function|unresolved attribute|no such overload|unsupported/i;

/** The policy ready to run; throws PolicyProblem saying why it cannot be. */
export function compilePolicy(spec: PolicySpec): CompiledPolicy {
  if (spec.expr.length > MAX_EXPR_CHARS) throw new PolicyProblem(`expr is ${spec.expr.length} characters; at most ${MAX_EXPR_CHARS}`);
  let parsed;
  try {
    parsed = parse(spec.expr);
  } catch (error) {
    throw new PolicyProblem(`expr does not parse: ${(error as Error).message.replace(/^<input>:/, 'at ')}`);
  }
  const positions = parsed.sourceInfo?.positions as Record<string, number> | undefined;
  const w: Walk = {
    moment: spec.when,
    known: new Set(factNames(spec.when)),
    used: new Set(),
    nodes: 0,
    column: (id) => (positions && positions[String(id)] !== undefined ? positions[String(id)]! + 1 : null),
  };
  walk(parsed.expr, w, new Set(), 0);
  const env = envFor(spec.when);
  const run = plan(env, parsed) as (bindings: Record<string, unknown>) => CelResult;
  const sample = Object.fromEntries(factNames(spec.when).map((name) => [name, FACTS[name]!.sample]));
  const trial = run(sample);
  if (isCelError(trial)) {
    if (TYPE_ERROR.test(trial.message)) throw new PolicyProblem(`expr does not type-check: ${trial.message}`);
  } else if (typeof trial !== 'boolean') {
    throw new PolicyProblem('expr must give true (allowed) or false (denied), not a value of another type');
  }
  return { ...spec, facts: [...w.used].sort(), run };
}

/**
 * The policy worker, a child process of the daemon (./child.ts): the only berth process that loads
 * @bufbuild/cel. It compiles expressions (./compile.ts) and judges policies (./evaluate.ts) for the
 * daemon (./engine.ts), one request at a time, and sends each outcome or verdict as soon as it has it:
 * when the daemon kills it (a judgement over its budget) or V8 does (a heap over its cap), what was
 * already decided stays decided. It exits when the daemon's channel closes.
 */
import { compilePolicy, PolicyProblem, type CompiledPolicy } from './compile.ts';
import { evaluateAll } from './evaluate.ts';
import type { Outcome, Reply, Request } from './protocol.ts';
import type { PolicySpec } from './specs.ts';

/** Compiled expressions by moment and text; the same expression in two policies is compiled once. */
const compiled = new Map<string, Pick<CompiledPolicy, 'facts' | 'run'> | { problem: string }>();
const MAX_COMPILED = 1000;

function compiledOf(spec: Pick<PolicySpec, 'when' | 'expr'>): Pick<CompiledPolicy, 'facts' | 'run'> | { problem: string } {
  const key = `${spec.when}\n${spec.expr}`;
  let entry = compiled.get(key);
  if (!entry) {
    try {
      const { facts, run } = compilePolicy({ name: 'p', message: '', source: { file: '', line: null }, ...spec });
      entry = { facts, run };
    } catch (error) {
      if (!(error instanceof PolicyProblem)) throw error;
      entry = { problem: error.message };
    }
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, entry);
  }
  return entry;
}

const send = (reply: Reply) => process.send!(reply);

function answer(request: Request): void {
  if (request.op === 'check') {
    for (const item of request.items) {
      const entry = compiledOf(item);
      const outcome: Outcome = 'problem' in entry ? { problem: entry.problem } : { facts: [...entry.facts] };
      send({ id: request.id, item: outcome });
    }
    return;
  }
  // The daemon sends only policies that loaded; one that does not compile here (it cannot, but) denies.
  const policies: CompiledPolicy[] = request.items.map((spec) => {
    const entry = compiledOf(spec);
    const fails = (): never => {
      throw new Error('problem' in entry ? entry.problem : '');
    };
    return 'problem' in entry ? { ...spec, facts: [], run: fails } : { ...spec, ...entry };
  });
  evaluateAll(policies, request.moment, request.facts, request.budgetMs, (verdict) => send({ id: request.id, item: verdict }));
}

process.on('message', (request: Request) => {
  answer(request);
  send({ id: request.id, done: true });
});
process.on('disconnect', () => process.exit(0));
send({ ready: true });

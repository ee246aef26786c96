/**
 * The policy gate: the server's policies (./files.ts) and an app's (berth.yaml `policies:`) judged at a
 * moment. Any policy that does not load refuses the gate (fail closed): a typo in a threshold must not
 * turn a rule off. The deploy runbook calls `judge` before anything starts (deploy/policy-step.ts);
 * the canary work calls it with `canary`/`stable` facts at canary_step and promote.
 */
import type { CompiledPolicy } from './compile.ts';
import { evaluateAll, type Verdict } from './evaluate.ts';
import type { Facts, HostFacts, Moment } from './facts.ts';
import { PolicyFiles } from './files.ts';
import { hostFacts } from './host.ts';
import { compileEntries, MAX_POLICIES, type Loaded, type LoadProblem } from './specs.ts';

/** berth.yaml's `policies:` as the manifest gives them. */
export type AppPolicyEntries = readonly { readonly name: string; readonly when: string; readonly expr: string; readonly message: string }[] | undefined;

export interface Judgement {
  verdicts: Verdict[];
  /** Policies that did not load; non-empty means the gate refuses whatever the verdicts say. */
  problems: LoadProblem[];
}

export class PolicyGate {
  readonly files: PolicyFiles;
  readonly #host: () => HostFacts;

  /** `host`: the host's facts; the data directory's by default (tests give fixed ones). */
  constructor(o: { dir: string; dataDir: string; host?: () => HostFacts }) {
    this.files = new PolicyFiles(o.dir);
    this.#host = o.host ?? (() => hostFacts(o.dataDir));
  }

  host(): HostFacts {
    return this.#host();
  }

  /** Every policy: the server's first, then the app's (from its berth.yaml) when given. */
  policies(app?: AppPolicyEntries): Loaded {
    const server = this.files.load();
    const own = app ? compileEntries(app, 'berth.yaml', () => null) : { policies: [], problems: [] };
    const all: Loaded = { policies: [...server.policies, ...own.policies], problems: [...server.problems, ...own.problems] };
    if (all.policies.length > MAX_POLICIES) all.problems.push({ file: 'berth.yaml', policy: null, line: null, problem: `${all.policies.length} policies with the server's; at most ${MAX_POLICIES}` });
    return all;
  }

  /** The moment's policies judged against `facts` (without `host`: read now). */
  judge(moment: Moment, facts: Omit<Facts, 'host'> & { host?: HostFacts }, app?: AppPolicyEntries): Judgement {
    const loaded = this.policies(app);
    const full: Facts = { ...facts, host: facts.host ?? this.host() };
    return { verdicts: evaluateAll(loaded.policies, moment, full), problems: loaded.problems };
  }
}

export type { CompiledPolicy, Verdict };

/**
 * The policy gate: the server's policies (./files.ts) and an app's (berth.yaml `policies:`) judged at a
 * moment. Any policy that does not load refuses the gate (fail closed): a typo in a threshold must not
 * turn a rule off. The deploy runbook calls `judge` before anything starts (deploy/policy-step.ts);
 * the canary work calls it with `canary`/`stable` facts at canary_step and promote. Expressions are
 * compiled and judged in the policy worker (./engine.ts), so everything here is asynchronous and the
 * daemon's thread never loads CEL.
 */
import { PolicyEngine, type EngineOptions } from './engine.ts';
import type { Facts, HostFacts, Moment } from './facts.ts';
import { checkAcrossFiles, PolicyFiles } from './files.ts';
import { hostFacts } from './host.ts';
import { JUDGEMENT_BUDGET_MS, type Verdict } from './protocol.ts';
import { checkEntries, MAX_POLICIES, settle, specsOf, type Loaded, type LoadedPolicy, type LoadProblem } from './specs.ts';

/** berth.yaml's `policies:` as the manifest gives them. */
export type AppPolicyEntries = readonly { readonly name: string; readonly when: string; readonly expr: string; readonly message: string }[] | undefined;

export interface Judgement {
  verdicts: Verdict[];
  /** Policies that did not load; non-empty means the gate refuses whatever the verdicts say. */
  problems: LoadProblem[];
}

export class PolicyGate {
  readonly files: PolicyFiles;
  readonly engine: PolicyEngine;
  readonly #host: () => HostFacts;

  /** `host`: the host's facts; the data directory's by default (tests give fixed ones). `engine`: the worker's limits. */
  constructor(o: { dir: string; dataDir: string; host?: () => HostFacts; engine?: Partial<EngineOptions> }) {
    this.files = new PolicyFiles(o.dir);
    this.engine = new PolicyEngine(o.engine);
    this.#host = o.host ?? (() => hostFacts(o.dataDir));
  }

  host(): HostFacts {
    return this.#host();
  }

  /** Every policy: the server's first, then the app's (from its berth.yaml) when given. */
  async policies(app?: AppPolicyEntries): Promise<Loaded> {
    const server = this.files.read();
    const own = app ? checkEntries(app, 'berth.yaml', () => null) : [];
    const outcomes = await this.engine.check([...specsOf(server), ...specsOf(own)]);
    const split = specsOf(server).length;
    const fromFiles = checkAcrossFiles(settle(server, outcomes.slice(0, split)));
    const fromApp = settle(own, outcomes.slice(split));
    const all: Loaded = { policies: [...fromFiles.policies, ...fromApp.policies], problems: [...fromFiles.problems, ...fromApp.problems] };
    if (all.policies.length > MAX_POLICIES) all.problems.push({ file: 'berth.yaml', policy: null, line: null, problem: `${all.policies.length} policies with the server's; at most ${MAX_POLICIES}` });
    return all;
  }

  /** berth.yaml's policies alone, checked as an upload is (CEL that does not parse or names an unknown fact). */
  async checkApp(app: AppPolicyEntries): Promise<LoadProblem[]> {
    const own = checkEntries(app ?? [], 'berth.yaml', () => null);
    return settle(own, await this.engine.check(specsOf(own))).problems;
  }

  /** The moment's policies judged against `facts` (without `host`: read now). */
  async judge(moment: Moment, facts: Omit<Facts, 'host'> & { host?: HostFacts }, app?: AppPolicyEntries): Promise<Judgement> {
    const loaded = await this.policies(app);
    const full: Facts = { ...facts, host: facts.host ?? this.host() };
    return { verdicts: await this.engine.judge(moment, loaded.policies, full, JUDGEMENT_BUDGET_MS), problems: loaded.problems };
  }

  /** Ends the policy worker (the daemon's shutdown). */
  close(): Promise<void> {
    return this.engine.close();
  }
}

/** `CompiledPolicy`: the name callers knew a loaded policy by; it carries no compiled program on this side. */
export type { LoadedPolicy, LoadedPolicy as CompiledPolicy, Verdict };
/** The budget of one judgement, from here: importing it from ./evaluate.ts would load CEL into the daemon. */
export { JUDGEMENT_BUDGET_MS };

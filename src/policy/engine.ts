/**
 * CEL out of the daemon's memory. @bufbuild/cel with its protobuf runtime and RE2 costs a fresh process
 * about 15 MB of its own memory (an idle daemon still 5 MB once V8 has settled), and the daemon needs it
 * only for a moment per deploy, or once per canary interval.
 * So policies are compiled and judged in a worker process (./child.ts, ./worker.ts) started on first use
 * and ended after `idleMs` without a request, which hands all of it back; the daemon never imports CEL
 * (./daemon-imports.test.ts spawns it and checks). Requests go one at a time. The worker is also the
 * judgement's hard stop: one still running after its budget (or past its heap) is killed, the policy it
 * was on denies, those after it deny unjudged, and the next request starts a fresh worker.
 */
import { startChild, type PolicyChild } from './child.ts';
import { bindingsOf, shownValue, type Facts, type Moment } from './facts.ts';
import { JUDGEMENT_BUDGET_MS, unjudged, type Outcome, type Reply, type Request, type Verdict } from './protocol.ts';
import type { LoadedPolicy, PolicySpec } from './specs.ts';
import { cpuTimeMs } from '../lib/proc.ts';

/** How much longer than its CPU budget, in wall time, a starved worker may take before it is stopped anyway. */
export const WALL_FACTOR = 10;

export interface EngineOptions {
  /** The worker ends after this long without a request (a canary judging every interval keeps it warm). */
  idleMs: number;
  /** The worker's heap (old generation): an expression that needs more is stopped and refused or denies. */
  heapMb: number;
  /** How long the worker may take to load CEL before a request fails closed. */
  bootTimeoutMs: number;
  /** The most one expression's load-time check (its compile and trial run) may take. */
  checkBudgetMs: number;
}

export const ENGINE_DEFAULTS: EngineOptions = { idleMs: 30_000, heapMb: 64, bootTimeoutMs: 15_000, checkBudgetMs: JUDGEMENT_BUDGET_MS };

/** Outcomes remembered on this side, so `berth policy list` and unchanged files need no worker. */
const MAX_OUTCOMES = 2000;

type Stop = { index: number; kind: 'budget' | 'memory' | 'failed'; why: string };
/** A request before it is numbered. */
type Items = { [Op in Request['op']]: Omit<Extract<Request, { op: Op }>, 'id'> }[Request['op']];
interface Job {
  request: Items;
  /** `true`: the budget is per item (checks); `false`: for the whole request (a judgement). */
  perItem: boolean;
  budgetMs: number;
  items: (Outcome | Verdict)[];
  done: (end: { items: (Outcome | Verdict)[]; stop?: Stop }) => void;
}

export class PolicyEngine {
  readonly #o: EngineOptions;
  readonly #queue: Job[] = [];
  readonly #outcomes = new Map<string, Outcome>();
  #worker: PolicyChild | null = null;
  #job: Job | null = null;
  #timer: NodeJS.Timeout | undefined;
  #idle: NodeJS.Timeout | undefined;
  #nextId = 1;
  #closed = false;
  /** Worker processes started so far, and those that have ended (tests read them). */
  starts = 0;
  exits = 0;

  constructor(options: Partial<EngineOptions> = {}) {
    this.#o = { ...ENGINE_DEFAULTS, ...options };
  }

  /** Whether a worker process is alive now. */
  get running(): boolean {
    return this.#worker !== null;
  }

  /** The live worker's pid (tests and `berth doctor`-style checks). */
  get pid(): number | undefined {
    return this.#worker?.pid;
  }

  /** Each expression compiled for its moment: the facts it reads, or why it is refused (in the order given). */
  async check(specs: readonly Pick<PolicySpec, 'when' | 'expr'>[]): Promise<Outcome[]> {
    const key = (s: Pick<PolicySpec, 'when' | 'expr'>) => `${s.when}\n${s.expr}`;
    let todo = [...new Map(specs.filter((s) => !this.#outcomes.has(key(s))).map((s) => [key(s), { when: s.when, expr: s.expr }])).values()];
    const failed = new Map<string, Outcome>();
    while (todo.length) {
      const end = await this.#run({ op: 'check', items: todo }, true, this.#o.checkBudgetMs);
      end.items.forEach((outcome, i) => this.#remember(key(todo[i]!), outcome as Outcome));
      if (!end.stop) break;
      const at = todo[end.stop.index]!;
      if (end.stop.kind === 'failed') {
        // Not the expression's fault: none of the rest is remembered, the next load tries again.
        for (const spec of todo.slice(end.stop.index)) failed.set(key(spec), { problem: `expr could not be checked: ${end.stop.why}` });
        break;
      }
      this.#remember(key(at), { problem: end.stop.kind === 'budget' ? `checking the expr on sample facts took over ${end.stop.why}; simplify it` : `checking the expr needed more than ${end.stop.why}; simplify it` });
      todo = todo.slice(end.stop.index + 1);
    }
    return specs.map((s) => this.#outcomes.get(key(s)) ?? failed.get(key(s)) ?? { problem: 'expr was not checked' });
  }

  /** A moment's policies judged against `facts`, in order; a policy stopped or not reached denies. */
  async judge(moment: Moment, policies: readonly LoadedPolicy[], facts: Facts, budgetMs = JUDGEMENT_BUDGET_MS): Promise<Verdict[]> {
    const mine = policies.filter((p) => p.when === moment);
    if (!mine.length) return [];
    const items = mine.map(({ name, when, expr, message, source }) => ({ name, when, expr, message, source }));
    const end = await this.#run({ op: 'judge', moment, items, facts, budgetMs }, false, budgetMs);
    const verdicts = end.items as Verdict[];
    if (!end.stop) return verdicts;
    const { index, kind, why } = end.stop;
    const stopped = mine[index]!;
    const bindings = bindingsOf(facts);
    const shown = Object.fromEntries(stopped.facts.map((name) => [name, shownValue(bindings[name] ?? null)]));
    const reason =
      kind === 'budget' ? `stopped, so it denies: the policies took over ${why}` : kind === 'memory' ? `stopped, so it denies: it needed more than ${why} of memory` : `not judged, so it denies: ${why}`;
    const rest = kind === 'budget' ? `not judged, so it denies: the policies before it took over ${why}` : kind === 'memory' ? 'not judged, so it denies: a policy before it was stopped' : reason;
    return [...verdicts, unjudged(stopped, reason, shown), ...mine.slice(index + 1).map((p) => unjudged(p, rest))];
  }

  /** Ends the worker now; requests after this fail closed. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idle);
    const worker = this.#worker;
    this.#worker = null;
    const why = 'the policy engine is closing';
    for (const job of this.#queue.splice(0)) job.done({ items: [], stop: { index: 0, kind: 'failed', why } });
    if (this.#job) this.#finish({ index: this.#job.items.length, kind: 'failed', why });
    worker?.kill();
  }

  #remember(key: string, outcome: Outcome): void {
    if (this.#outcomes.size >= MAX_OUTCOMES) this.#outcomes.clear();
    this.#outcomes.set(key, outcome);
  }

  #run(request: Items, perItem: boolean, budgetMs: number): Promise<{ items: (Outcome | Verdict)[]; stop?: Stop }> {
    return new Promise((done) => {
      if (this.#closed) return done({ items: [], stop: { index: 0, kind: 'failed', why: 'the policy engine is closed' } });
      this.#queue.push({ request, perItem, budgetMs, items: [], done });
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#job || !this.#queue.length) return;
    const job = (this.#job = this.#queue.shift()!);
    clearTimeout(this.#idle);
    let worker: PolicyChild;
    try {
      worker = this.#worker ?? (await this.#spawn());
    } catch (error) {
      return this.#finish({ index: 0, kind: 'failed', why: `the policy engine did not start: ${(error as Error).message}` });
    }
    if (this.#job !== job) return; // closed while starting
    worker.hold(true);
    this.#arm(job);
    worker.send({ ...job.request, id: this.#nextId++ });
  }

  /**
   * The budget is CPU time of the worker, not wall time: on a busy machine (a deploy building beside it, a
   * loaded CI host) a cheap judgement may wait for a core longer than the budget, and must not deny for
   * that. When the timer fires, a worker that used less CPU than its budget was starved, not running away:
   * it gets the rest, up to WALL_FACTOR times the budget in wall time (a stopped or stuck worker still
   * ends). Without /proc, wall time decides, as before.
   */
  #arm(job: Job): void {
    clearTimeout(this.#timer);
    const pid = this.#worker?.pid;
    const cpuAtStart = pid ? cpuTimeMs(pid) : null;
    const startedAt = performance.now();
    const wait = (ms: number) => {
      this.#timer = setTimeout(() => {
        const now = pid && cpuAtStart !== null ? cpuTimeMs(pid) : null;
        const used = now === null ? null : now - cpuAtStart!;
        if (used !== null && used < job.budgetMs && performance.now() - startedAt < job.budgetMs * WALL_FACTOR) return wait(Math.max(50, job.budgetMs - used));
        this.#stop({ index: job.items.length, kind: 'budget', why: `${job.budgetMs} ms` });
      }, ms);
    };
    wait(job.budgetMs);
  }

  async #spawn(): Promise<PolicyChild> {
    this.starts++;
    let me: PolicyChild | null = null;
    const child = await startChild(this.#o, {
      reply: (reply) => me && this.#onReply(me, reply),
      gone: (why) => me && this.#onGone(me, why),
      exited: () => this.exits++,
    });
    if (this.#closed) {
      child.kill();
      throw new Error('the policy engine is closed');
    }
    me = this.#worker = child;
    return child;
  }

  #onReply(worker: PolicyChild, reply: Reply): void {
    const job = this.#job;
    if (worker !== this.#worker || !job || 'ready' in reply) return;
    if ('item' in reply) {
      job.items.push(reply.item);
      if (job.perItem) this.#arm(job);
    } else this.#finish();
  }

  #onGone(worker: PolicyChild, stop: Omit<Stop, 'index'>): void {
    if (worker !== this.#worker) return; // one this side already let go
    this.#worker = null;
    this.#finish({ index: this.#job?.items.length ?? 0, ...stop });
  }

  /** The worker is killed: the request in flight ends at the item it was on. */
  #stop(stop: Stop): void {
    const worker = this.#worker;
    this.#worker = null;
    worker?.kill();
    this.#finish(stop);
  }

  #finish(stop?: Stop): void {
    clearTimeout(this.#timer);
    const job = this.#job;
    this.#job = null;
    job?.done({ items: job.items, ...(stop ? { stop } : {}) });
    if (this.#queue.length) return void this.#pump();
    const worker = this.#worker;
    if (!worker || this.#closed) return;
    worker.hold(false);
    this.#idle = setTimeout(() => {
      if (this.#job || this.#worker !== worker) return;
      this.#worker = null;
      worker.kill();
    }, this.#o.idleMs);
    this.#idle.unref();
  }
}

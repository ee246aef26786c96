/**
 * The `canary` strategy's runner: after the new release's instances passed the health gate beside the
 * stable ones, they serve a growing share of traffic (berth.yaml `deploy.canary.steps`), and every
 * `interval` the canary's numbers over the step's window are judged by the `canary_step` policies. A deny
 * aborts at once (./abort.ts); passing every step, then the `promote` policies, switches as blue-green
 * does. `berth promote` / `berth abort` reach the runner through ./controls.ts.
 */
import { fail, type BerthError } from '../../errors/catalogue.ts';
import type { InstanceRecord, ReleaseRecord } from '../../model/records.ts';
import type { CanaryJudgement } from '../../model/wire-rollout.ts';
import type { RolloutRecord } from '../../store/rollouts.ts';
import { emit } from '../emit.ts';
import { switchStep, type Run } from '../steps.ts';
import { sampleDecision, stepPassed, stepPercent } from './analysis.ts';
import { abortRollout } from './abort.ts';
import { canaryControls, type CanaryCommandKind, type CanaryOutcome } from './controls.ts';
import { judgeCanary, readCounters, windowBetween, type Reading } from './judge.ts';

interface Command {
  kind: CanaryCommandKind;
  by: string;
  resolve(outcome: CanaryOutcome): void;
  reject(error: unknown): void;
}

/**
 * The canary of `release` against the app's current release, then its switch. Without a current
 * release, or without a web process (no traffic to split), there is nothing to compare: it switches at
 * once, as blue-green does.
 */
export async function canaryStep(run: Run, release: ReleaseRecord, instances: InstanceRecord[]): Promise<void> {
  const { ctx } = run;
  const currentId = ctx.store.apps.get(release.app)?.currentRelease ?? null;
  const stable = currentId && currentId !== release.id ? ctx.store.releases.get(currentId) : undefined;
  const stableServes = stable !== undefined && ctx.store.instances.live(release.app).some((i) => i.releaseId === stable.id && i.state === 'serving' && i.process === 'web');
  if (!stable || !stableServes || !release.manifest.processes.web) return switchStep(run, release, instances);
  await new CanaryRun(run, release, stable, instances).run();
}

class CanaryRun {
  readonly #run: Run;
  readonly #release: ReleaseRecord;
  readonly #stable: ReleaseRecord;
  readonly #instances: InstanceRecord[];
  readonly #plan: ReleaseRecord['manifest']['deploy']['canary'];
  readonly #commands: Command[] = [];
  #wake: AbortController | null = null;
  /** Unreachable from `berth promote` / `berth abort` once it is deciding how to end (they answer NO_CANARY_RUNNING). */
  #detach: () => void = () => {};
  #rollout!: RolloutRecord;

  constructor(run: Run, release: ReleaseRecord, stable: ReleaseRecord, instances: InstanceRecord[]) {
    this.#run = run;
    this.#release = release;
    this.#stable = stable;
    this.#instances = instances;
    this.#plan = release.manifest.deploy.canary;
  }

  get #where() {
    return { app: this.#run.deployment.app, deploymentId: this.#run.deployment.id };
  }

  async run(): Promise<void> {
    const { ctx } = this.#run;
    this.#begin();
    this.#detach = canaryControls(ctx).attach(this.#release.app, { deploymentId: this.#run.deployment.id, ask: (kind, by) => this.#ask(kind, by) });
    try {
      await this.#steps();
    } catch (error) {
      // A decision (a deny, inconclusive, `berth abort`) already aborted; anything else (a daemon
      // shutdown, a bug) still puts all traffic back on stable and stops the canary before it goes up.
      const rollout = ctx.store.rollouts.get(this.#run.deployment.id);
      if (rollout && (rollout.state === 'running' || rollout.state === 'promoting')) {
        const reason = this.#run.signal.aborted ? `interrupted: ${String((this.#run.signal.reason as Error)?.message ?? 'the daemon stopped')}` : `it failed: ${(error as Error).message}`;
        await abortRollout(this.#run, this.#release, this.#stable, { reason, by: 'berth', code: 'CANARY_ABORTED', quick: this.#run.signal.aborted }).catch((e) => ctx.log.error('aborting the canary failed', { error: e as Error }));
      }
      throw error;
    } finally {
      this.#end();
    }
  }

  /** No command reaches it any more: it is ending. Those still waiting answer NO_CANARY_RUNNING. */
  #end(): void {
    this.#detach();
    for (const command of this.#commands.splice(0)) command.reject(fail('NO_CANARY_RUNNING', { app: this.#release.app }));
  }

  /** Canary instances serving, the rollout at its first step, in one transaction; then the table. */
  #begin(): void {
    const { ctx } = this.#run;
    const { store, clock } = ctx;
    const now = clock.now();
    store.transaction(() => {
      store.deployments.move(this.#run.deployment.id, 'canary', now);
      emit(ctx, this.#where, { type: 'deploy.state', message: 'canary', data: { state: 'canary' } });
      for (const instance of this.#instances) if (store.instances.get(instance.id)?.state === 'starting') store.instances.move(instance.id, 'serving', now);
      this.#rollout = store.rollouts.insert(
        {
          deploymentId: this.#run.deployment.id,
          app: this.#release.app,
          canaryReleaseId: this.#release.id,
          stableReleaseId: this.#stable.id,
          steps: this.#plan.steps.length,
          step: 0,
          percent: 0,
          sticky: this.#plan.sticky,
          stepStartedAt: now,
          stepEndsAt: now,
          state: 'running',
        },
        now,
      );
    });
  }

  async #steps(): Promise<void> {
    let base: Reading | null = null;
    let reading: Reading | null = null;
    for (let index = 0; index < this.#plan.steps.length; index++) {
      await this.#enterStep(index);
      base = await readCounters(this.#run, this.#release, this.#stable);
      for (;;) {
        await this.#wait(this.#plan.intervalMs);
        if (await this.#serveCommands(base)) return;
        const now = this.#run.ctx.clock.now();
        reading = await readCounters(this.#run, this.#release, this.#stable);
        // No reading (the proxy did not answer): the step's window starts at the next one that comes.
        if (base === null) base = reading;
        const window = base && reading ? windowBetween(base, reading) : null;
        const decision = sampleDecision({ requests: window?.canary.requests ?? 0, minRequests: this.#plan.minRequests, now, stepEndsAt: this.#rollout.stepEndsAt, maxWaitMs: this.#plan.maxWaitMs });
        if (decision === 'inconclusive') {
          const step = `${index + 1}/${this.#plan.steps.length}`;
          await this.#abort(fail('CANARY_INCONCLUSIVE', { ...this.#names(), requests: window?.canary.requests ?? 0, minRequests: this.#plan.minRequests, step, waitedMs: now - this.#rollout.stepEndsAt }), 'analysis');
        }
        if (decision === 'wait' || !window) continue;
        const judged = await judgeCanary(this.#run, { moment: 'canary_step', release: this.#release, rollout: this.#rollout, window });
        this.#record(judged.judgement);
        if (judged.denial !== null) await this.#abort(fail('CANARY_FAILED', { ...this.#names(), verdict: judged.denial }), 'analysis');
        if (stepPassed({ now, stepEndsAt: this.#rollout.stepEndsAt })) break;
      }
    }
    // Every step passed: the promote policies judge the last step's window.
    const window = base && reading ? windowBetween(base, reading) : windowBetween({ at: 0, canary: null, stable: null }, { at: 1, canary: null, stable: null });
    const judged = await judgeCanary(this.#run, { moment: 'promote', release: this.#release, rollout: this.#rollout, window });
    this.#record(judged.judgement);
    if (judged.denial !== null) await this.#abort(fail('CANARY_FAILED', { ...this.#names(), verdict: `promotion refused: ${judged.denial}` }), 'analysis');
    await this.#promote('analysis');
  }

  #names(): { canary: string; stable: string } {
    return { canary: this.#name(this.#release), stable: this.#name(this.#stable) };
  }

  async #enterStep(index: number): Promise<void> {
    const { ctx } = this.#run;
    const now = ctx.clock.now();
    const step = this.#plan.steps[index]!;
    const percent = stepPercent(this.#plan.steps, index);
    ctx.store.transaction(() => {
      this.#rollout = ctx.store.rollouts.update(this.#run.deployment.id, { step: index, percent, stepStartedAt: now, stepEndsAt: now + step.durationMs }, now);
      emit(ctx, this.#where, {
        type: 'canary.step',
        message: `step ${index + 1}/${this.#plan.steps.length}: ${percent} % of traffic to ${this.#name(this.#release)} for ${Math.round(step.durationMs / 100) / 10} s`,
        data: { canary: this.#name(this.#release), stable: this.#name(this.#stable), step: index + 1, steps: this.#plan.steps.length, percent, durationMs: step.durationMs },
      });
    });
    await this.#publish();
  }

  #record(judgement: CanaryJudgement): void {
    this.#rollout = this.#run.ctx.store.rollouts.update(this.#run.deployment.id, { last: judgement }, this.#run.ctx.clock.now());
  }

  /** Commands that arrived while waiting; true when one ended the canary by promoting it. */
  async #serveCommands(base: Reading | null): Promise<boolean> {
    while (this.#commands.length > 0) {
      const command = this.#commands.shift()!;
      try {
        if (command.kind === 'abort') {
          await this.#abort(fail('CANARY_ABORTED', { ...this.#names(), reason: `aborted by ${command.by}` }), command.by, command);
        }
        // A promote asked for judges the step's window so far (with no reading: no numbers, and the policies say).
        const reading = await readCounters(this.#run, this.#release, this.#stable);
        const empty = { at: 0, canary: null, stable: null };
        const window = base && reading ? windowBetween(base, reading) : windowBetween(empty, { ...empty, at: 1 });
        const judged = await judgeCanary(this.#run, { moment: 'promote', release: this.#release, rollout: this.#rollout, window });
        this.#record(judged.judgement);
        if (judged.denial !== null) {
          command.reject(fail('CANARY_PROMOTE_DENIED', { canary: this.#name(this.#release), reason: judged.denial }));
          continue;
        }
        await this.#promote(command.by);
        command.resolve({ outcome: 'promoted', message: `${this.#name(this.#release)} promoted by ${command.by}: it now serves all traffic`, rollout: this.#rollout });
        return true;
      } catch (error) {
        command.reject(error);
        throw error;
      }
    }
    return false;
  }

  /** Ends the canary: all traffic back on stable first, then the canary drains and stops; throws `error`. */
  async #abort(error: BerthError, by: string, command?: Command): Promise<never> {
    this.#end();
    this.#rollout = await abortRollout(this.#run, this.#release, this.#stable, {
      reason: error.message,
      by,
      code: error.code,
      onTrafficBack: (rollout) => command?.resolve({ outcome: 'aborted', message: `${error.message}; all traffic is back on ${this.#name(this.#stable)}`, rollout }),
    });
    throw error;
  }

  /** The normal switch (the new release current, stable draining), then the rollout is over. */
  async #promote(by: string): Promise<void> {
    this.#end();
    const { ctx } = this.#run;
    this.#rollout = ctx.store.rollouts.update(this.#run.deployment.id, { state: 'promoting', reason: by === 'analysis' ? null : `promoted by ${by}` }, ctx.clock.now());
    await switchStep(this.#run, this.#release, this.#instances);
    ctx.store.transaction(() => {
      this.#rollout = ctx.store.rollouts.update(this.#run.deployment.id, { state: 'promoted', percent: 100 }, ctx.clock.now());
      emit(ctx, this.#where, {
        type: 'canary.promoted',
        message: by === 'analysis' ? `${this.#name(this.#release)} passed every step and is promoted` : `${this.#name(this.#release)} promoted by ${by}`,
        data: { canary: this.#name(this.#release), stable: this.#name(this.#stable), by },
      });
    });
    await this.#publish();
  }

  #ask(kind: CanaryCommandKind, by: string): Promise<CanaryOutcome> {
    return new Promise((resolve, reject) => {
      this.#commands.push({ kind, by, resolve, reject });
      this.#wake?.abort();
    });
  }

  /** Sleeps `ms`, or less when a command arrives; the deployment's own signal still interrupts. */
  async #wait(ms: number): Promise<void> {
    if (this.#commands.length > 0) return;
    const wake = new AbortController();
    this.#wake = wake;
    try {
      await this.#run.ctx.clock.sleep(ms, AbortSignal.any([this.#run.signal, wake.signal]));
    } catch (error) {
      if (this.#run.signal.aborted || !wake.signal.aborted) throw error;
    } finally {
      this.#wake = null;
    }
  }

  async #publish(): Promise<void> {
    await this.#run.routing.publish().catch((error) => this.#run.ctx.log.error('proxy did not take the canary\'s routes yet', { app: this.#release.app, error: error as Error }));
  }

  #name(release: ReleaseRecord): string {
    return `v${release.version}`;
  }
}


import type { InstanceRecord, ReleaseRecord } from '../model/records.ts';
import { checkDomains } from './domains.ts';
import { emit } from './emit.ts';
import { withFormation } from './formation.ts';
import { processLevels } from './levels.ts';
import { planRolling } from './rolling-plan.ts';
import { gateInstances, moveTo, startInputs, startInstance, switchStep, type Run } from './steps.ts';
import { UndoStack } from './undo.ts';

const where = (run: Run) => ({ app: run.deployment.app, deploymentId: run.deployment.id });

/**
 * What the runbook hands the rolling step beside the release: the `switch` checks, run once the first batch
 * of new web instances is healthy, before it gets any traffic (the first batch at all for an app without web).
 */
export interface RollingHooks {
  beforeSwitch?: (instances: InstanceRecord[]) => Promise<unknown>;
}

/**
 * strategy `rolling`: each process, in start order, is replaced batch by batch as ./rolling-plan.ts plans it
 * (`deploy.max_surge`, `deploy.max_unavailable`). Old and new instances serve side by side meanwhile; the
 * old ones a batch retires drain (in-flight requests and WebSockets finish, up to `drain_timeout`) and
 * stop before the next batch starts anything, so the surge bound counts them until they are gone. Once
 * every process is replaced, the switch makes the release current as blue-green's does.
 *
 * A failure at any batch rolls back: new instances not serving yet stop, the serving release gets back
 * the slots retired so far (batch by batch, through the health gate, within the same bounds), then the
 * new ones drain. An interrupted deploy (daemon shutdown) leaves that to the next start's recovery.
 */
export async function rollingStep(run: Run, release: ReleaseRecord, hooks: RollingHooks = {}): Promise<void> {
  // The switch checks it again in its transaction; checked first, a taken domain fails before anything is replaced.
  checkDomains(run.ctx, release.app, release.manifest);
  moveTo(run, 'rolling');
  await new RollingRun(run, release).run(hooks);
}

/** The deploy's own bounds hold for its rollback too. */
interface ReplaceOptions {
  bounds: { maxSurge: number; maxUnavailable: number };
  rollback: boolean;
}

class RollingRun {
  /**
   * The runbook's run with an undo stack of its own: the runbook's undo would stop every instance started
   * here, serving ones included; this class decides their fate (drain, or leave to recovery).
   */
  readonly #run: Run;
  readonly #release: ReleaseRecord;
  /** Instances retired so far: nothing new starts until they have stopped. */
  readonly #retired = new Set<string>();
  #hooks: RollingHooks = {};
  /** The switch checks ran (before the first new web instances got traffic). */
  #checked = false;

  constructor(run: Run, release: ReleaseRecord) {
    this.#run = { ...run, undo: new UndoStack() };
    this.#release = release;
  }

  async run(hooks: RollingHooks): Promise<void> {
    const { ctx } = this.#run;
    const release = this.#release;
    this.#hooks = hooks;
    try {
      const manifest = withFormation(release.manifest, release.formation);
      for (const level of processLevels(manifest)) {
        for (const process of level) await this.#replace(release, process, manifest.processes[process]!.replicas, { bounds: release.manifest.deploy, rollback: false });
      }
      const fresh = ctx.store.instances.live(release.app).filter((i) => i.releaseId === release.id && i.state === 'serving');
      await this.#checks(fresh, true);
      await switchStep(this.#run, release, fresh);
    } catch (error) {
      await this.#stopUnrouted();
      // Interrupted (the daemon stops): the next start's recovery puts the serving release back (./rolling-recovery.ts).
      if (!this.#run.signal.aborted) await this.#rollBack(error as Error);
      throw error;
    }
  }

  /**
   * One process moved onto `target` (the new release, or the serving one again in a rollback): `replicas`
   * instances of it serving, every other serving instance of the process retired, batch by batch.
   */
  async #replace(target: ReleaseRecord, process: string, replicas: number, options: ReplaceOptions): Promise<void> {
    const run = this.#run;
    const { maxSurge, maxUnavailable } = options.bounds;
    const serving = run.ctx.store.instances.live(target.app).filter((i) => i.process === process && i.state === 'serving');
    const current = serving.filter((i) => i.releaseId === target.id);
    // Highest ordinals leave first: the slots that remain are the low ones, as a scale-down leaves them.
    const outgoing = serving.filter((i) => i.releaseId !== target.id).sort((a, b) => b.ordinal - a.ordinal);
    const plan = planRolling({ replicas, current: current.length, outgoing: outgoing.length, maxSurge, maxUnavailable });
    const taken = new Set(current.map((i) => i.ordinal));
    const ordinals = Array.from({ length: replicas }, (_, n) => n).filter((n) => !taken.has(n));
    const inputs = plan.some((b) => b.start > 0) ? startInputs(run, target) : null;
    for (const [n, batch] of plan.entries()) {
      const before = outgoing.splice(0, batch.retireBefore);
      if (before.length > 0) {
        this.#move(before, []);
        await this.#publish();
      }
      // They count against the surge until they are gone.
      await this.#stopped();
      const started: InstanceRecord[] = [];
      for (let k = 0; k < batch.start; k++) started.push(await startInstance(run, target, inputs!, { process, ordinal: ordinals.shift()! }));
      if (started.length > 0) await gateInstances(run, target, started);
      if (!options.rollback && started.length > 0 && (process === 'web' || !target.manifest.processes.web)) await this.#checks(started, false);
      this.#move(outgoing.splice(0, batch.retireAfter), started, { process, batch: n + 1, of: plan.length, retiredBefore: before.length, rollback: options.rollback, gap: batch.gap });
      await this.#publish();
    }
  }

  /** The switch checks, once per deploy, against the instances about to get traffic first. */
  async #checks(instances: InstanceRecord[], last: boolean): Promise<void> {
    if (this.#checked) return;
    this.#checked = true;
    await this.#hooks.beforeSwitch?.(instances);
    const state = this.#run.ctx.store.deployments.get(this.#run.deployment.id)?.state;
    if (!last && state !== 'rolling') moveTo(this.#run, 'rolling');
  }

  /**
   * One transaction: `started` serve, `retirees` drain (until their release's drain_timeout), and with
   * `batch` the `deploy.batch` event.
   */
  #move(retirees: InstanceRecord[], started: InstanceRecord[], batch?: { process: string; batch: number; of: number; retiredBefore: number; rollback: boolean; gap: boolean }): void {
    const run = this.#run;
    const { store, clock } = run.ctx;
    store.transaction(() => {
      const now = clock.now();
      for (const instance of started) store.instances.move(instance.id, 'serving', now);
      for (const instance of retirees) {
        // One that left on its own meanwhile (crashed and stopped) has nothing to drain.
        if (store.instances.get(instance.id)?.state !== 'serving') continue;
        const drainMs = store.releases.get(instance.releaseId)?.manifest.deploy.drainTimeoutMs ?? 30_000;
        store.instances.move(instance.id, 'draining', now, { stateUntil: now + drainMs });
      }
      if (!batch) return;
      const retired = batch.retiredBefore + retirees.length;
      emit(run.ctx, where(run), {
        type: 'deploy.batch',
        message: `${batch.process}: batch ${batch.batch}/${batch.of} ${batch.rollback ? 'put back' : 'replaced'}: ${started.length} started, ${retired} retired${batch.gap ? ' (none served meanwhile: its only replica was replaced in place)' : ''}`,
        data: { process: batch.process, batch: batch.batch, of: batch.of, started: started.length, retired, ...(batch.rollback ? { rollback: true } : {}) },
      });
    });
    for (const instance of retirees) this.#retired.add(instance.id);
  }

  /**
   * Waits until every instance retired so far has stopped (the reconciler drains and stops them), up to
   * its drain deadline plus its stop timeout and a margin; one that outlives that is logged and left to
   * the reconciler rather than holding the deploy forever.
   */
  async #stopped(): Promise<void> {
    const run = this.#run;
    const { store, clock, log } = run.ctx;
    const ids = [...this.#retired];
    const limit = Math.max(clock.now(), ...ids.map((id) => this.#waitLimit(store.instances.get(id))));
    for (;;) {
      const running = ids.filter((id) => {
        const state = store.instances.get(id)?.state;
        return state === 'draining' || state === 'stopping' || state === 'standby';
      });
      if (running.length === 0) return;
      if (clock.now() > limit) {
        log.warn('retired instances still running past their drain and stop time', { app: run.deployment.app, instances: running });
        return;
      }
      await clock.sleep(50, run.signal);
    }
  }

  #waitLimit(instance: InstanceRecord | undefined): number {
    const { store, clock } = this.#run.ctx;
    if (!instance) return 0;
    const deploy = store.releases.get(instance.releaseId)?.manifest.deploy;
    return (instance.stateUntil ?? clock.now()) + (deploy?.stopTimeoutMs ?? 10_000) + 5_000;
  }

  async #publish(): Promise<void> {
    try {
      await this.#run.routing.publish();
    } catch (error) {
      // The store is the truth: the proxy watchdog republishes once the proxy answers again.
      this.#run.ctx.log.error('proxy did not take the new routes yet', { app: this.#run.deployment.app, error: error as Error });
    }
  }

  /** New instances nothing routes to yet (the batch that failed) stop at once. */
  async #stopUnrouted(): Promise<void> {
    const { ctx, deployment } = this.#run;
    for (const instance of ctx.store.instances.byDeployment(deployment.id)) {
      if (instance.state !== 'starting') continue;
      await ctx.driver.stop(instance.id).catch((error) => ctx.log.error('stopping a new instance failed', { instance: instance.id, error: error as Error }));
      ctx.store.instances.move(instance.id, 'failed', ctx.clock.now());
    }
  }

  /**
   * After a failure: the serving release is rolled back onto its replicas (each batch through the health
   * gate, within the deploy's bounds), then everything left of the new release drains. A restore that
   * fails stops what it started and leaves the new instances serving: capacity never drops for it.
   */
  async #rollBack(cause: Error): Promise<void> {
    const run = this.#run;
    const { ctx } = run;
    const release = this.#release;
    const currentId = ctx.store.apps.get(release.app)?.currentRelease;
    const serving = currentId && currentId !== release.id ? ctx.store.releases.get(currentId) : undefined;
    try {
      if (serving) {
        const manifest = withFormation(serving.manifest, serving.formation);
        for (const level of processLevels(manifest)) {
          for (const process of level) await this.#replace(serving, process, manifest.processes[process]!.replicas, { bounds: release.manifest.deploy, rollback: true });
        }
      }
      // Processes only the new release has: nothing to put back, their instances drain.
      this.#move(ctx.store.instances.live(release.app).filter((i) => i.releaseId === release.id && i.state === 'serving'), []);
      await this.#publish();
    } catch (error) {
      await this.#stopUnrouted();
      run.tail.push(`putting v${serving?.version} back after "${cause.message}" failed: ${(error as Error).message}`);
      ctx.log.error('rolling back a rolling deploy failed; the new instances keep serving', { app: release.app, error: error as Error });
    }
  }
}

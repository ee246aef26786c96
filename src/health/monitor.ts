import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { InstanceRecord } from '../model/records.ts';
import type { RuntimeDriver } from '../runtime/driver.ts';
import { judgeApp, recordCheck, type HistoryContext } from './history.ts';
import { instanceProbe, type ProbeContext } from './instance-probe.ts';
import type { ProbeResult } from './probe.ts';

/** Failures in a row that make a serving instance unhealthy (Docker's HEALTHCHECK default, too). */
export const UNHEALTHY_AFTER = 3;
/** web is probed at least this far apart once it serves: the gate probes fast, a steady check need not. */
export const MIN_WEB_INTERVAL_MS = 5_000;

export interface MonitorState {
  failures: number;
  unhealthy: boolean;
  nextAt: number;
}

export type MonitorVerdict = 'none' | 'unhealthy' | 'recovered';

/**
 * What the monitor reads and acts on; the deploy context has all of it, `report` writes the app's event log
 * (instance.unhealthy / instance.healthy, app.degraded / app.recovered), `secrets` masks check details.
 */
export interface MonitorContext extends ProbeContext, HistoryContext {
  driver: Pick<RuntimeDriver, 'checkHealth' | 'inspect' | 'restart'>;
  clock: Clock;
  log: Logger;
  /** Asked before an unhealthy instance is restarted: true when an update on trial is reverted instead (deploy/image-updater.ts). */
  revertInstead?(instance: InstanceRecord, detail: string): boolean;
}

/**
 * Pure: the state after one probe result, and what to do about it. Every `unhealthyAfter`-th failure in
 * a row is an `unhealthy` verdict (the instance is restarted; the next check waits `unhealthyAfter`
 * intervals, time for the restart; counting starts again), so one that never recovers is restarted
 * again and again until the restart policy calls it a crash loop. The first success after that is a
 * `recovered` verdict; the `instance.healthy` event itself follows the stored health state (./history.ts),
 * which also outlives a daemon restart and a restart's back-off.
 */
export function afterProbe(state: MonitorState, ok: boolean, now: number, intervalMs: number, unhealthyAfter = UNHEALTHY_AFTER): { state: MonitorState; verdict: MonitorVerdict } {
  if (ok) return { state: { failures: 0, unhealthy: false, nextAt: now + intervalMs }, verdict: state.unhealthy ? 'recovered' : 'none' };
  const failures = state.failures + 1;
  if (failures < unhealthyAfter) return { state: { ...state, failures, nextAt: now + intervalMs }, verdict: 'none' };
  return { state: { failures: 0, unhealthy: true, nextAt: now + intervalMs * unhealthyAfter }, verdict: 'unhealthy' };
}

/**
 * Keeps asking the serving instances of every app's current release whether they are healthy, the way
 * the gate did (instance-probe.ts), at the manifest's interval (web: at least MIN_WEB_INTERVAL_MS). An instance
 * that fails UNHEALTHY_AFTER checks in a row is reported (event `instance.unhealthy`) and restarted
 * through the driver, which counts that as a crash: back-off, and a crash loop (off the route table)
 * if it keeps happening. Every check is recorded with the instance's health state, and the app's state is
 * judged after each check and each pass (./history.ts): an instance is `degraded` from that verdict until a
 * check passes, the app while any serving instance of its current release is. History and states are
 * stored; the failure count behind the verdict is in memory only: after a daemon restart it starts from
 * zero (a degraded instance stays degraded until it passes).
 */
export class HealthMonitor {
  readonly #ctx: MonitorContext;
  readonly #states = new Map<string, MonitorState>();
  /** Checks under way, by instance: each runs on its own, so a slow one holds up no other. */
  readonly #inFlight = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | null = null;

  constructor(ctx: MonitorContext) {
    this.#ctx = ctx;
  }

  start(everyMs = 500): void {
    this.#timer = setInterval(() => this.tick(), everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.allSettled(this.#inFlight.values());
  }

  /** Starts a check of every instance that is due and not still being checked; returns them all settled. */
  tick(): Promise<void> {
    try {
      this.#startDue();
    } catch (error) {
      this.#ctx.log.error('health monitor pass failed', { error: error as Error });
    }
    return Promise.allSettled(this.#inFlight.values()).then(() => {});
  }

  #startDue(): void {
    const { store, clock } = this.#ctx;
    const now = clock.now();
    const watched = new Set<string>();
    for (const app of store.apps.list()) {
      const release = app.currentRelease ? store.releases.get(app.currentRelease) : undefined;
      if (!release) continue;
      // Instances leave serving without a check (a deploy, a scale): the app's state follows them here.
      this.#judge(app.name, release);
      for (const instance of store.instances.byRelease(release.id)) {
        if (instance.state !== 'serving') continue;
        const asked = instanceProbe(this.#ctx, release, instance);
        if (!asked) continue;
        watched.add(instance.id);
        const intervalMs = asked.kind === 'check' ? asked.intervalMs : Math.max(asked.intervalMs, MIN_WEB_INTERVAL_MS);
        // A newly serving instance has just passed the gate: its first steady check comes one interval later.
        const state = this.#states.get(instance.id) ?? { failures: 0, unhealthy: false, nextAt: now + intervalMs };
        this.#states.set(instance.id, state);
        if (now < state.nextAt || this.#inFlight.has(instance.id)) continue;
        const check = this.#check(instance, asked.probe, intervalMs).finally(() => this.#inFlight.delete(instance.id));
        this.#inFlight.set(instance.id, check);
      }
    }
    for (const id of this.#states.keys()) if (!watched.has(id)) this.#states.delete(id);
  }

  /** Writes the check down; a store failure is logged and never keeps the monitor from restarting an unhealthy instance. */
  #record(instance: InstanceRecord, result: ProbeResult, unhealthy: boolean): void {
    try {
      recordCheck(this.#ctx, instance, result, unhealthy);
    } catch (error) {
      this.#ctx.log.error('recording a health check failed', { instance: instance.id, error: error as Error });
    }
  }

  /** The app's health state, announced when it changed; a failure here is logged, the monitor goes on. */
  #judge(app: string, release?: Parameters<typeof judgeApp>[2]): void {
    try {
      judgeApp(this.#ctx, app, release);
    } catch (error) {
      this.#ctx.log.error('judging an app\'s health failed', { app, error: error as Error });
    }
  }

  async #check(instance: InstanceRecord, probe: () => Promise<ProbeResult>, intervalMs: number): Promise<void> {
    const ctx = this.#ctx;
    try {
      // Down on purpose (a restart's back-off) or given up (crash loop): supervision owns it; its own
      // events say what happens, and counting starts again once it runs.
      if ((await ctx.driver.inspect(instance.id)).state !== 'running') {
        this.#states.set(instance.id, { failures: 0, unhealthy: false, nextAt: ctx.clock.now() + intervalMs });
        return;
      }
      const result = await probe().catch((error: Error): ProbeResult => ({ ok: false, error: error.message, ms: 0 }));
      const before = this.#states.get(instance.id);
      if (!before) return; // no longer serving
      const { state, verdict } = afterProbe(before, result.ok, ctx.clock.now(), intervalMs);
      this.#states.set(instance.id, state);
      const label = `${instance.process}.${instance.ordinal}`;
      // Recorded first; a degraded instance that passes is reported healthy there (instance.healthy).
      this.#record(instance, result, verdict === 'unhealthy');
      if (verdict === 'unhealthy') {
        const detail = result.error ?? `answered ${result.status}`;
        // An update on trial is reverted to the warm release it replaced instead: a restart would take it off its traffic first.
        const reverting = ctx.revertInstead?.(instance, detail) === true;
        ctx.log.warn(`instance unhealthy, ${reverting ? 'reverting its update' : 'restarting it'}`, { app: instance.app, instance: instance.id, detail });
        ctx.report(instance.app, { type: 'instance.unhealthy', message: `${label} failed ${UNHEALTHY_AFTER} health checks in a row (${detail}); ${reverting ? 'reverting the update on trial' : 'restarting it'}`, data: { instance: instance.id, detail } });
        this.#judge(instance.app);
        if (!reverting) await ctx.driver.restart(instance.id);
      } else {
        this.#judge(instance.app);
      }
    } catch (error) {
      ctx.log.error('health check failed to run', { instance: instance.id, error: error as Error });
    }
  }
}

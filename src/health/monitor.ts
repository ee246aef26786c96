import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { EventOf } from '../model/events.ts';
import type { InstanceRecord } from '../model/records.ts';
import type { RuntimeDriver } from '../runtime/driver.ts';
import type { Store } from '../store/store.ts';
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

/** What the monitor reads and acts on; the deploy context has all of it, `report` writes the app's event log. */
export interface MonitorContext extends ProbeContext {
  store: Pick<Store, 'apps' | 'releases' | 'instances'>;
  driver: Pick<RuntimeDriver, 'checkHealth' | 'inspect' | 'restart'>;
  clock: Clock;
  log: Logger;
  report(app: string, event: EventOf<'instance.unhealthy'> | EventOf<'instance.healthy'>): void;
  /** Asked before an unhealthy instance is restarted: true when an update on trial is reverted instead (deploy/image-updater.ts). */
  revertInstead?(instance: InstanceRecord, detail: string): boolean;
}

/**
 * Pure: the state after one probe result, and what to do about it. Every `unhealthyAfter`-th failure in
 * a row is an `unhealthy` verdict (the instance is restarted; the next check waits `unhealthyAfter`
 * intervals, time for the restart; counting starts again), so one that never recovers is restarted
 * again and again until the restart policy calls it a crash loop. The first success after that reports
 * it recovered.
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
 * if it keeps happening. In memory only: after a daemon restart counting starts from zero.
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
      if (verdict === 'unhealthy') {
        const detail = result.error ?? `answered ${result.status}`;
        // An update on trial is reverted to the warm release it replaced instead: a restart would take it off its traffic first.
        const reverting = ctx.revertInstead?.(instance, detail) === true;
        ctx.log.warn(`instance unhealthy, ${reverting ? 'reverting its update' : 'restarting it'}`, { app: instance.app, instance: instance.id, detail });
        ctx.report(instance.app, { type: 'instance.unhealthy', message: `${label} failed ${UNHEALTHY_AFTER} health checks in a row (${detail}); ${reverting ? 'reverting the update on trial' : 'restarting it'}`, data: { instance: instance.id, detail } });
        if (!reverting) await ctx.driver.restart(instance.id);
      } else if (verdict === 'recovered') {
        ctx.report(instance.app, { type: 'instance.healthy', message: `${label} is healthy again`, data: { instance: instance.id } });
      }
    } catch (error) {
      ctx.log.error('health check failed to run', { instance: instance.id, error: error as Error });
    }
  }
}

/**
 * What the health monitor writes down (./monitor.ts): each check of a serving instance with the
 * instance's new state, and the app's state when it changes, with the events that say so. The thin
 * adapter around the pure rules of ./health-state.ts.
 */
import type { Clock } from '../lib/clock.ts';
import type { EventOf } from '../model/events.ts';
import type { InstanceRecord, ReleaseRecord } from '../model/records.ts';
import type { Masker } from '../runtime/mask-secrets.ts';
import type { Store } from '../store/store.ts';
import { afterCheck, appChange, appHealth, checkDetail } from './health-state.ts';
import type { ProbeResult } from './probe.ts';

export type HealthEvent = EventOf<'instance.unhealthy'> | EventOf<'instance.healthy'> | EventOf<'app.degraded'> | EventOf<'app.recovered'>;

/** What writing the history needs. `secrets` is the deploy context's AppSecrets (deploy/app-secrets.ts). */
export interface HistoryContext {
  store: Pick<Store, 'apps' | 'releases' | 'instances' | 'health' | 'transaction'>;
  clock: Clock;
  secrets: { masker(where: { app: string | null }): Masker };
  report(app: string, event: HealthEvent): void;
}

/**
 * Records one check of `instance` (kept: the last 100) and its state after it, in one transaction;
 * `unhealthy` is the monitor's verdict on it. A degraded instance that passes is reported healthy again
 * (`instance.healthy`). Returns the change of the instance's state.
 */
export function recordCheck(ctx: HistoryContext, instance: InstanceRecord, result: ProbeResult, unhealthy: boolean): 'degraded' | 'recovered' | null {
  const { store } = ctx;
  const at = ctx.clock.now();
  const detail = result.ok ? null : checkDetail(result.error ?? (result.status === undefined ? 'failed' : `answered ${result.status}`), ctx.secrets.masker({ app: instance.app }));
  return store.transaction(() => {
    const before = store.health.state(instance.id) ?? { state: 'unknown' as const, failures: 0 };
    const { status, change } = afterCheck(before, result.ok, unhealthy);
    store.health.record({ instanceId: instance.id, app: instance.app, at, ok: result.ok, status: result.status ?? null, latencyMs: Math.max(0, Math.round(result.ms)), detail });
    store.health.setState({ instanceId: instance.id, app: instance.app, state: status.state, failures: status.failures, updatedAt: at });
    if (change === 'recovered') ctx.report(instance.app, { type: 'instance.healthy', message: `${instance.process}.${instance.ordinal} is healthy again`, data: { instance: instance.id } });
    return change;
  });
}

/**
 * Judges an app from the serving instances of its current release and, when its state changed since last
 * announced, stores it and reports `app.degraded` or `app.recovered` (once per change, across restarts:
 * the last state announced is stored).
 */
export function judgeApp(ctx: HistoryContext, app: string, release?: ReleaseRecord): void {
  const { store } = ctx;
  const record = store.apps.get(app);
  if (!record) return; // destroyed meanwhile
  const current = release ?? (record.currentRelease ? store.releases.get(record.currentRelease) : undefined);
  const serving = current ? store.instances.byRelease(current.id).filter((i) => i.state === 'serving') : [];
  const states = store.health.statesOf(app);
  const now = appHealth(serving.map((i) => states.get(i.id)?.state ?? 'unknown'));
  const before = store.health.appState(app);
  if (now === before) return;
  store.transaction(() => {
    store.health.setAppState(app, now, ctx.clock.now());
    const change = appChange(before, now);
    const name = current ? `v${current.version}` : null;
    // Degraded needs a serving instance, so a current release.
    if (change === 'app.degraded' && name !== null) {
      const degraded = serving.filter((i) => states.get(i.id)?.state === 'degraded');
      const which = degraded.map((i) => `${i.process}.${i.ordinal}`).join(', ');
      ctx.report(app, { type: 'app.degraded', message: `${app} is degraded: ${which} failed 3 health checks in a row`, data: { release: name, instances: degraded.map((i) => i.id) } });
    } else if (change === 'app.recovered') {
      ctx.report(app, { type: 'app.recovered', message: `${app} recovered: no serving instance is degraded`, data: { release: name } });
    }
  });
}

import { requireApp } from '../../deploy/apps.ts';
import { appHealth } from '../../health/health-state.ts';
import type { AppRecord, HealthCheckRecord } from '../../model/records.ts';
import type { AppHealth, HealthCheck } from '../../model/wire.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';
import { pathRedactor } from '../redact-paths.ts';

/** `GET /v1/apps/:app/health` (`berth health`): what the health monitor found of each serving instance. */
export function healthRoutes(router: Router, deps: ApiDeps): void {
  router.on(operations.appHealth, ({ res, params: { app }, query }) => {
    answer(res, 'appHealth', 200, healthView(deps, requireApp(deps.ctx, app), query.limit));
  });
}

/**
 * The serving instances of the current release, each with its state, failures in a row and latest
 * `limit` checks (newest first); the app's state as the App shape shows it (api/views.ts). Details were
 * masked when recorded; server paths in them show as `DATA/...` like every recorded text.
 */
export function healthView(deps: ApiDeps, app: AppRecord, limit: number): AppHealth {
  const { store } = deps.ctx;
  const release = app.currentRelease ? store.releases.get(app.currentRelease) : undefined;
  const serving = release ? store.instances.byRelease(release.id).filter((i) => i.state === 'serving') : [];
  const states = store.health.statesOf(app.name);
  const redact = pathRedactor(deps.config.dataDir);
  const check = (c: HealthCheckRecord): HealthCheck => ({ at: new Date(c.at).toISOString(), ok: c.ok, status: c.status, latencyMs: c.latencyMs, detail: c.detail === null ? null : redact(c.detail) });
  const instances = serving
    .toSorted((a, b) => a.process.localeCompare(b.process) || a.ordinal - b.ordinal)
    .map((instance) => {
      const state = states.get(instance.id);
      return {
        instance: instance.id,
        process: instance.process,
        ordinal: instance.ordinal,
        release: `v${release!.version}`,
        state: state?.state ?? 'unknown',
        consecutiveFailures: state?.failures ?? 0,
        checks: store.health.recent(instance.id, limit).map(check),
      } as const;
    });
  return { app: app.name, state: appHealth(instances.map((i) => i.state)), instances };
}

import { showChaos, startChaos, stopChaos } from '../../deploy/chaos.ts';
import type { ChaosState } from '../../model/wire-chaos.ts';
import type { ChaosRecord } from '../../store/chaos.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';

const iso = (ms: number) => new Date(ms).toISOString();

/** A stored rule as the API shows it (also in the App shape). */
export function chaosView(record: ChaosRecord | null): ChaosState | null {
  if (record === null) return null;
  return {
    mode: record.mode,
    latencyMs: record.latencyMs,
    status: record.status,
    ratio: record.ratio,
    release: record.releaseVersion === null ? null : `v${record.releaseVersion}`,
    since: iso(record.since),
    until: iso(record.until),
  };
}

/**
 * `/v1/apps/:app/chaos`: GET shows the app's simulated outage, PUT sets it (../../deploy/chaos.ts checks
 * every field with its own code), DELETE turns it off. Each change answers once the proxy has the table.
 */
export function chaosRoutes(router: Router, deps: ApiDeps): void {
  router.on(operations.getChaos, ({ res, params: { app } }) => {
    answer(res, 'getChaos', 200, { app, chaos: chaosView(showChaos(deps.ctx, app)) });
  });
  router.on(operations.setChaos, async ({ res, params: { app }, body }) => {
    const record = await startChaos(deps.ctx, deps.routing, { app, ...body });
    answer(res, 'setChaos', 200, { app, chaos: chaosView(record) });
  });
  router.on(operations.stopChaos, async ({ res, params: { app } }) => {
    await stopChaos(deps.ctx, deps.routing, app);
    answer(res, 'stopChaos', 200, { app, chaos: null });
  });
}

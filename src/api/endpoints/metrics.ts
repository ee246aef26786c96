import { Metrics } from '../../metrics/metrics.ts';
import { EXPOSITION_CONTENT_TYPE } from '../../metrics/exposition.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';

const made = new WeakMap<ApiDeps, Metrics>();

/** The daemon's metrics, or (an API wired without them) one over the same context, made once. */
export function metricsOf(deps: ApiDeps): Metrics {
  if (deps.metrics) return deps.metrics;
  let metrics = made.get(deps);
  if (!metrics) {
    const { dataplane, driver, store, clock, log } = deps.ctx;
    metrics = new Metrics({ dataplane, driver, store, clock, log, version: deps.version });
    made.set(deps, metrics);
  }
  return metrics;
}

export function metricsRoutes(router: Router, deps: ApiDeps): void {
  router.on(operations.metrics, async ({ res }) => {
    const text = await metricsOf(deps).scrape();
    res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(text);
  });

  router.on(operations.appMetrics, async ({ res, params, query }) => {
    const traffic = await metricsOf(deps).appTraffic(params.app, query.window ?? '1m');
    answer(res, 'appMetrics', 200, { ...traffic, at: new Date(traffic.at).toISOString() });
  });
}

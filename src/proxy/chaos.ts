import type { ChaosRule } from '../dataplane/route-table.ts';
import type { ProxyErrorKind } from './pages.ts';

/**
 * `berth chaos` in the data plane: what an app's chaos rule does to one request. Asked only when the
 * app has a rule (the hot path's cost without chaos is the one `app.chaos !== null` check), after the
 * target is picked (a rule scoped to a release acts only on that release's targets), and only on a
 * request's first attempt (a retry after a failed connection is not made slow or failed twice).
 */
export type ChaosAction = { delayMs: number; fail: null } | { delayMs: 0; fail: ProxyErrorKind };

/** Reason phrases of the statuses chaos may answer with that pages.ts does not know. */
const TITLES: Record<number, string> = {
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The page chaos answers with: it says it is berth's simulated outage, so nobody debugs the app for it. */
export function chaosPage(app: string, status: number): ProxyErrorKind {
  return {
    status,
    code: 'chaos',
    title: TITLES[status] ?? 'Simulated Outage',
    detail: `This answer is berth's chaos (a simulated outage), not app ${app}. Turn it off with \`berth chaos ${app} off\`.`,
  };
}

/**
 * The action for a request sent to a target of `release` at `now`; null: forward it as usual (the rule
 * expired, names another release, or this request was not picked). `random` in [0, 1).
 */
export function chaosAction(rule: ChaosRule, app: string, release: string, now: number, random: () => number = Math.random): ChaosAction | null {
  if (now >= rule.until) return null;
  if (rule.release !== null && rule.release !== release) return null;
  if (rule.mode === 'slow') return { delayMs: rule.latencyMs, fail: null };
  return random() < rule.ratio ? { delayMs: 0, fail: chaosPage(app, rule.status) } : null;
}

/**
 * Deployments by outcome and how long they took, counted from the store (one grouped query, one row per
 * app, kind and outcome), so the numbers survive daemon restarts and need no state of their own.
 */
import type { Store } from '../store/store.ts';

/** Upper bounds in seconds of the deployment duration histogram (+Inf implied). */
export const DEPLOY_BOUNDS_S = [5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600] as const;

export type DeployOutcome = 'succeeded' | 'failed' | 'interrupted';

export interface DeployTotals {
  app: string;
  kind: string;
  outcome: DeployOutcome;
  count: number;
  /** Sum of durations, seconds. */
  sumSeconds: number;
  /** Cumulative counts per bound of DEPLOY_BOUNDS_S (le), as Prometheus exposes them; `count` is +Inf. */
  cumulative: number[];
}

interface Row {
  app: string;
  kind: string;
  state: DeployOutcome;
  n: number;
  sum_ms: number | null;
  [bucket: `b${number}`]: number;
}

const BUCKETS_SQL = DEPLOY_BOUNDS_S.map((s, i) => `SUM(CASE WHEN finished_at - created_at <= ${s * 1000} THEN 1 ELSE 0 END) AS b${i}`).join(', ');
const QUERY = `SELECT app, kind, state, COUNT(*) AS n, SUM(finished_at - created_at) AS sum_ms, ${BUCKETS_SQL}
  FROM deployments WHERE state IN ('succeeded', 'failed', 'interrupted') AND finished_at IS NOT NULL
  GROUP BY app, kind, state ORDER BY app, kind, state`;

export function deployTotals(store: Store): DeployTotals[] {
  return store.db.all<Row>(QUERY).map((r) => ({
    app: r.app,
    kind: r.kind,
    outcome: r.state,
    count: Number(r.n),
    sumSeconds: Math.max(0, Number(r.sum_ms ?? 0)) / 1000,
    cumulative: DEPLOY_BOUNDS_S.map((_, i) => Number(r[`b${i}`] ?? 0)),
  }));
}

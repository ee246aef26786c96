import type { HealthCheckRecord, InstanceHealthRecord } from '../model/records.ts';
import type { Db } from './db.ts';

/** Checks kept per instance: enough for `berth health` and a look back over minutes, bounded whatever the interval. */
export const CHECKS_KEPT = 100;

export type AppHealthState = 'unknown' | 'healthy' | 'degraded';

interface CheckRow {
  app: string;
  instance_id: string;
  at: number;
  ok: number;
  status: number | null;
  latency_ms: number;
  detail: string | null;
}

interface StateRow {
  instance_id: string;
  app: string;
  state: 'unknown' | 'healthy' | 'degraded';
  failures: number;
  updated_at: number;
}

const toCheck = (r: CheckRow): HealthCheckRecord => ({
  instanceId: r.instance_id,
  app: r.app,
  at: r.at,
  ok: r.ok === 1,
  status: r.status,
  latencyMs: r.latency_ms,
  detail: r.detail,
});

const toState = (r: StateRow): InstanceHealthRecord => ({ instanceId: r.instance_id, app: r.app, state: r.state, failures: r.failures, updatedAt: r.updated_at });

/**
 * The health monitor's history and verdicts (src/health/monitor.ts): every check of a serving instance,
 * the last CHECKS_KEPT per instance (trimmed on insert, in the same transaction); each instance's health
 * state and failures in a row; each app's state as last announced (so `app.degraded` / `app.recovered`
 * are emitted once per change, across daemon restarts). Everything goes with the app (foreign keys).
 * Instances are never deleted on their own (src/store/instances.ts); if they ever are, `forget` them here.
 */
export class HealthChecks {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** Appends one check and drops that instance's checks beyond the newest `keep`. */
  record(check: HealthCheckRecord, keep = CHECKS_KEPT): void {
    this.#db.transaction(() => {
      this.#db.run(
        'INSERT INTO health_checks (app, instance_id, at, ok, status, latency_ms, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
        check.app,
        check.instanceId,
        check.at,
        check.ok ? 1 : 0,
        check.status,
        check.latencyMs,
        check.detail,
      );
      // The id of the oldest check kept; everything older of this instance goes.
      this.#db.run(
        'DELETE FROM health_checks WHERE instance_id = ? AND id < (SELECT id FROM health_checks WHERE instance_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)',
        check.instanceId,
        check.instanceId,
        keep - 1,
      );
    });
  }

  /** The newest `limit` checks of an instance, newest first. */
  recent(instanceId: string, limit: number): HealthCheckRecord[] {
    return this.#db.all<CheckRow>('SELECT * FROM health_checks WHERE instance_id = ? ORDER BY id DESC LIMIT ?', instanceId, limit).map(toCheck);
  }

  count(instanceId: string): number {
    return this.#db.get<{ n: number }>('SELECT COUNT(*) AS n FROM health_checks WHERE instance_id = ?', instanceId)?.n ?? 0;
  }

  /** An instance's health state; undefined: never judged (`unknown`). */
  state(instanceId: string): InstanceHealthRecord | undefined {
    const row = this.#db.get<StateRow>('SELECT * FROM instance_health WHERE instance_id = ?', instanceId);
    return row && toState(row);
  }

  /** Every judged instance of an app, by instance id. */
  statesOf(app: string): Map<string, InstanceHealthRecord> {
    return new Map(this.#db.all<StateRow>('SELECT * FROM instance_health WHERE app = ?', app).map((r) => [r.instance_id, toState(r)]));
  }

  setState(record: InstanceHealthRecord): void {
    this.#db.run(
      'INSERT INTO instance_health (instance_id, app, state, failures, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (instance_id) DO UPDATE SET state = excluded.state, failures = excluded.failures, updated_at = excluded.updated_at',
      record.instanceId,
      record.app,
      record.state,
      record.failures,
      record.updatedAt,
    );
  }

  /** The app's health state as last announced; `unknown` before the first. */
  appState(app: string): AppHealthState {
    return this.#db.get<{ state: AppHealthState }>('SELECT state FROM app_health WHERE app = ?', app)?.state ?? 'unknown';
  }

  setAppState(app: string, state: AppHealthState, now: number): void {
    this.#db.run('INSERT INTO app_health (app, state, updated_at) VALUES (?, ?, ?) ON CONFLICT (app) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at', app, state, now);
  }

  /** Removes the history and state of instances that are gone (for a future pruning of the instances table). */
  forget(instanceIds: string[]): void {
    this.#db.transaction(() => {
      for (const id of instanceIds) {
        this.#db.run('DELETE FROM health_checks WHERE instance_id = ?', id);
        this.#db.run('DELETE FROM instance_health WHERE instance_id = ?', id);
      }
    });
  }
}

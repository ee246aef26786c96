import type { ChaosMode } from '../model/wire-chaos.ts';
import type { Db } from './db.ts';

/**
 * `berth chaos`: at most one simulated outage per app, kept until it is turned off or expires (the
 * daemon removes an expired one; the proxy ignores it past `until` by itself). The row goes with its app.
 */
export interface ChaosRecord {
  app: string;
  mode: ChaosMode;
  /** slow only. */
  latencyMs: number | null;
  /** error only. */
  status: number | null;
  ratio: number | null;
  /** The release it is scoped to, by version (v3 -> 3); null: the whole app. */
  releaseVersion: number | null;
  since: number;
  until: number;
}

interface Row {
  app: string;
  mode: ChaosMode;
  latency_ms: number | null;
  status: number | null;
  ratio: number | null;
  release_version: number | null;
  since: number;
  until: number;
}

const toRecord = (r: Row): ChaosRecord => ({
  app: r.app,
  mode: r.mode,
  latencyMs: r.latency_ms,
  status: r.status,
  ratio: r.ratio,
  releaseVersion: r.release_version,
  since: r.since,
  until: r.until,
});

export class ChaosRules {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  get(app: string): ChaosRecord | undefined {
    const row = this.#db.get<Row>('SELECT * FROM chaos WHERE app = ?', app);
    return row && toRecord(row);
  }

  list(): ChaosRecord[] {
    return this.#db.all<Row>('SELECT * FROM chaos ORDER BY app').map(toRecord);
  }

  /** Rules whose `until` is at or before `now`, soonest first. */
  expired(now: number): ChaosRecord[] {
    return this.#db.all<Row>('SELECT * FROM chaos WHERE until <= ? ORDER BY until', now).map(toRecord);
  }

  /** Sets the app's rule, replacing the one it had. */
  put(record: ChaosRecord): void {
    this.#db.run(
      `INSERT INTO chaos (app, mode, latency_ms, status, ratio, release_version, since, until) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (app) DO UPDATE SET mode = excluded.mode, latency_ms = excluded.latency_ms, status = excluded.status,
         ratio = excluded.ratio, release_version = excluded.release_version, since = excluded.since, until = excluded.until`,
      record.app,
      record.mode,
      record.latencyMs,
      record.status,
      record.ratio,
      record.releaseVersion,
      record.since,
      record.until,
    );
  }

  /** Removes the app's rule; says whether it had one. */
  remove(app: string): boolean {
    return this.#db.run('DELETE FROM chaos WHERE app = ?', app).changes > 0;
  }
}

import type { Db } from './db.ts';

export interface EnvVarRecord {
  name: string;
  valueSealed: string;
  updatedAt: number;
}

/** The app's env vars as set with `berth env set`: values stay sealed at rest. */
export class EnvVars {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  list(app: string): EnvVarRecord[] {
    return this.#db
      .all<{ name: string; value_sealed: string; updated_at: number }>('SELECT name, value_sealed, updated_at FROM env_vars WHERE app = ? ORDER BY name', app)
      .map((r) => ({ name: r.name, valueSealed: r.value_sealed, updatedAt: r.updated_at }));
  }

  set(app: string, name: string, valueSealed: string, now: number): void {
    this.#db.run(
      'INSERT INTO env_vars (app, name, value_sealed, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (app, name) DO UPDATE SET value_sealed = excluded.value_sealed, updated_at = excluded.updated_at',
      app,
      name,
      valueSealed,
      now,
    );
  }

  unset(app: string, name: string): boolean {
    return this.#db.run('DELETE FROM env_vars WHERE app = ? AND name = ?', app, name).changes === 1;
  }
}

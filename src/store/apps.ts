import type { Db } from './db.ts';
import type { AppRecord } from '../model/records.ts';

interface Row {
  name: string;
  created_at: number;
  current_release: string | null;
  next_version: number;
  formation: string;
}

const toRecord = (r: Row): AppRecord => ({
  name: r.name,
  createdAt: r.created_at,
  currentRelease: r.current_release,
  nextVersion: r.next_version,
  formation: JSON.parse(r.formation) as Record<string, number>,
});

export class Apps {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  get(name: string): AppRecord | undefined {
    const row = this.#db.get<Row>('SELECT * FROM apps WHERE name = ?', name);
    return row && toRecord(row);
  }

  list(): AppRecord[] {
    return this.#db.all<Row>('SELECT * FROM apps ORDER BY name').map(toRecord);
  }

  /** Creates the app if it does not exist; returns whether it did. */
  ensure(name: string, now: number): boolean {
    return this.#db.run('INSERT INTO apps (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', name, now).changes === 1;
  }

  /** Reserves the next release version number. */
  takeVersion(name: string): number {
    const row = this.#db.get<{ next_version: number }>('UPDATE apps SET next_version = next_version + 1 WHERE name = ? RETURNING next_version - 1 AS next_version', name);
    if (!row) throw new Error(`no app ${name}`);
    return row.next_version;
  }

  setFormation(name: string, formation: Record<string, number>): void {
    this.#db.run('UPDATE apps SET formation = ? WHERE name = ?', JSON.stringify(formation), name);
  }

  setCurrentRelease(name: string, releaseId: string | null): void {
    this.#db.run('UPDATE apps SET current_release = ? WHERE name = ?', releaseId, name);
  }

  /** Deletes the app and, by cascade, its builds, releases, deployments, instances and env vars. */
  delete(name: string): void {
    this.#db.run('DELETE FROM apps WHERE name = ?', name);
  }
}

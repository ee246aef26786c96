import { recordOf } from '../lib/record.ts';
import { reviveManifest } from '../manifest/revive.ts';
import type { Manifest } from '../manifest/schema.ts';
import type { Db } from './db.ts';
import type { ReleaseRecord, ReleaseStatus } from '../model/records.ts';

interface Row {
  id: string;
  app: string;
  version: number;
  build_id: string;
  manifest: string;
  formation: string;
  env_sealed: string;
  description: string;
  status: ReleaseStatus;
  created_at: number;
  service_images: string;
  checks_passed: string;
  checks_skipped: number;
}

const toRecord = (r: Row): ReleaseRecord => ({
  id: r.id,
  app: r.app,
  version: r.version,
  buildId: r.build_id,
  // Records keyed by user names come back without a prototype, as parseManifest made them.
  manifest: reviveManifest(JSON.parse(r.manifest) as Manifest),
  formation: recordOf(Object.entries(JSON.parse(r.formation) as Record<string, number>)),
  envSealed: r.env_sealed,
  description: r.description,
  status: r.status,
  createdAt: r.created_at,
  serviceImages: recordOf(Object.entries(JSON.parse(r.service_images) as Record<string, string>)),
  checks: { passed: JSON.parse(r.checks_passed) as string[], skipped: r.checks_skipped === 1 },
});

export class Releases {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  insert(release: ReleaseRecord): void {
    this.#db.run(
      'INSERT INTO releases (id, app, version, build_id, manifest, formation, env_sealed, description, status, created_at, service_images, checks_passed, checks_skipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      release.id,
      release.app,
      release.version,
      release.buildId,
      JSON.stringify(release.manifest),
      JSON.stringify(release.formation),
      release.envSealed,
      release.description,
      release.status,
      release.createdAt,
      JSON.stringify(release.serviceImages ?? {}),
      JSON.stringify(release.checks?.passed ?? []),
      release.checks?.skipped ? 1 : 0,
    );
  }

  get(id: string): ReleaseRecord | undefined {
    const row = this.#db.get<Row>('SELECT * FROM releases WHERE id = ?', id);
    return row && toRecord(row);
  }

  /** Newest first. */
  listByApp(app: string): ReleaseRecord[] {
    return this.#db.all<Row>('SELECT * FROM releases WHERE app = ? ORDER BY version DESC', app).map(toRecord);
  }

  /** The checks a release passed so far: its `switch` checks are added once they pass (deploy/checks.ts). */
  setChecksPassed(id: string, passed: readonly string[]): void {
    this.#db.run('UPDATE releases SET checks_passed = ? WHERE id = ?', JSON.stringify(passed), id);
  }

  setStatus(id: string, status: ReleaseStatus): void {
    this.#db.run('UPDATE releases SET status = ? WHERE id = ?', status, id);
  }
}

import type { Db } from './db.ts';

/**
 * An update on trial: the digest an `update` deployment brings, and once it switched, the release it made
 * and until when a crash loop or failing health checks of that release revert it (the settle window).
 */
export interface UpdateTrial {
  digest: string;
  deploymentId: string;
  /** The release the update made, once it switched; null while it deploys. */
  releaseId: string | null;
  /** The event seq of its switch: trouble is looked for after it (so a restarted daemon finds it too). */
  switchedSeq: number | null;
  /** End of the settle window (epoch ms), once it switched. */
  until: number | null;
}

/** The auto-update state of one followed image: the app's own (`service` null) or a service's. */
export interface ImageUpdateRecord {
  app: string;
  service: string | null;
  /** The image followed, as written in berth.yaml. */
  image: string;
  nextCheckAt: number;
  lastCheckAt: number | null;
  /** Why the last check failed (a catalogue code and its message); null when it answered. */
  lastError: { code: string; message: string } | null;
  /** `sha256:...` serving now, when known. */
  servingDigest: string | null;
  /** A digest that failed: skipped until the tag points to another. */
  pinnedDigest: string | null;
  trial: UpdateTrial | null;
  updatedAt: number;
}

interface Row {
  app: string;
  service: string;
  image: string;
  next_check_at: number;
  last_check_at: number | null;
  last_error: string | null;
  serving_digest: string | null;
  pinned_digest: string | null;
  trial: string | null;
  updated_at: number;
}

const toRecord = (r: Row): ImageUpdateRecord => ({
  app: r.app,
  service: r.service === '' ? null : r.service,
  image: r.image,
  nextCheckAt: r.next_check_at,
  lastCheckAt: r.last_check_at,
  lastError: r.last_error ? (JSON.parse(r.last_error) as ImageUpdateRecord['lastError']) : null,
  servingDigest: r.serving_digest,
  pinnedDigest: r.pinned_digest,
  trial: r.trial ? (JSON.parse(r.trial) as UpdateTrial) : null,
  updatedAt: r.updated_at,
});

/** The auto-update controller's state, one row per followed image; the app's rows go with the app. */
export class ImageUpdates {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  get(app: string, service: string | null): ImageUpdateRecord | undefined {
    const row = this.#db.get<Row>('SELECT * FROM image_updates WHERE app = ? AND service = ?', app, service ?? '');
    return row && toRecord(row);
  }

  /** The app's followed images: its own first, then its services by name. */
  listByApp(app: string): ImageUpdateRecord[] {
    return this.#db.all<Row>('SELECT * FROM image_updates WHERE app = ? ORDER BY service', app).map(toRecord);
  }

  save(record: ImageUpdateRecord): void {
    this.#db.run(
      `INSERT INTO image_updates (app, service, image, next_check_at, last_check_at, last_error, serving_digest, pinned_digest, trial, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (app, service) DO UPDATE SET image = excluded.image, next_check_at = excluded.next_check_at,
         last_check_at = excluded.last_check_at, last_error = excluded.last_error, serving_digest = excluded.serving_digest,
         pinned_digest = excluded.pinned_digest, trial = excluded.trial, updated_at = excluded.updated_at`,
      record.app,
      record.service ?? '',
      record.image,
      record.nextCheckAt,
      record.lastCheckAt,
      record.lastError ? JSON.stringify(record.lastError) : null,
      record.servingDigest,
      record.pinnedDigest,
      record.trial ? JSON.stringify(record.trial) : null,
      record.updatedAt,
    );
  }

  /** Forgets the app's rows for images it no longer follows (`update` removed, or the service gone). */
  keepOnly(app: string, services: (string | null)[]): void {
    const kept = JSON.stringify(services.map((s) => s ?? ''));
    this.#db.run('DELETE FROM image_updates WHERE app = ? AND service NOT IN (SELECT value FROM json_each(?))', app, kept);
  }
}

import type { Db } from './db.ts';
import type { BuildRecord } from '../model/records.ts';

interface Row {
  id: string;
  app: string;
  artifact: string;
  inferred_command: string | null;
  git_sha: string | null;
  image: string | null;
  pulled: number;
  created_at: number;
  removed_at: number | null;
}

const toRecord = (r: Row): BuildRecord => ({
  id: r.id,
  app: r.app,
  artifact: r.artifact,
  inferredCommand: r.inferred_command,
  gitSha: r.git_sha,
  image: r.image,
  pulled: r.pulled === 1,
  createdAt: r.created_at,
  removedAt: r.removed_at,
});

export class Builds {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  insert(build: Omit<BuildRecord, 'removedAt' | 'image' | 'pulled'> & Partial<Pick<BuildRecord, 'image' | 'pulled'>>): void {
    this.#db.run(
      'INSERT INTO builds (id, app, artifact, inferred_command, git_sha, image, pulled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      build.id,
      build.app,
      build.artifact,
      build.inferredCommand,
      build.gitSha,
      build.image ?? null,
      build.pulled ? 1 : 0,
      build.createdAt,
    );
  }

  /** Whether a build not removed yet, of any app, other than `except`, still has this artifact. */
  artifactInUse(artifact: string, except: string): boolean {
    return this.#db.get<{ n: number }>('SELECT COUNT(*) AS n FROM builds WHERE artifact = ? AND id != ? AND removed_at IS NULL', artifact, except)!.n > 0;
  }

  get(id: string): BuildRecord | undefined {
    const row = this.#db.get<Row>('SELECT * FROM builds WHERE id = ?', id);
    return row && toRecord(row);
  }

  listByApp(app: string): BuildRecord[] {
    return this.#db.all<Row>('SELECT * FROM builds WHERE app = ? ORDER BY created_at', app).map(toRecord);
  }

  /** Builds whose artifact is still on disk but that no release worth keeping uses. */
  unreferenced(app: string): BuildRecord[] {
    return this.#db
      .all<Row>(
        `SELECT * FROM builds b WHERE b.app = ? AND b.removed_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM releases r WHERE r.build_id = b.id AND r.status IN ('pending', 'ready'))`,
        app,
      )
      .map(toRecord);
  }

  /** The artifact of every build not removed yet, whatever its app. */
  liveArtifacts(): string[] {
    return this.#db.all<{ artifact: string }>('SELECT artifact FROM builds WHERE removed_at IS NULL').map((r) => r.artifact);
  }

  markRemoved(id: string, now: number): void {
    this.#db.run('UPDATE builds SET removed_at = ? WHERE id = ?', now, id);
  }
}

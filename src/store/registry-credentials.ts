import type { Db } from './db.ts';

/** One registry login: the password only as the Sealer sealed it (src/registry/credentials.ts seals and opens). */
export interface RegistryCredentialRecord {
  /** Normalized as src/registry/hosts.ts `registryHost` does: `docker.io`, `ghcr.io`, `127.0.0.1:5000`. */
  host: string;
  username: string;
  passwordSealed: string;
  createdAt: number;
  updatedAt: number;
}

/** What `berth registry list` shows: no password, not even sealed. */
export type RegistryLogin = Omit<RegistryCredentialRecord, 'passwordSealed'>;

/** `berth registry login|list|logout`: one login per registry host, the password sealed at rest. */
export class RegistryCredentials {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** Stores the login for its host, replacing an earlier one (its creation time kept). */
  save(login: { host: string; username: string; passwordSealed: string }, now: number): void {
    this.#db.run(
      `INSERT INTO registry_credentials (host, username, password_sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (host) DO UPDATE SET username = excluded.username, password_sealed = excluded.password_sealed, updated_at = excluded.updated_at`,
      login.host,
      login.username,
      login.passwordSealed,
      now,
      now,
    );
  }

  get(host: string): RegistryCredentialRecord | undefined {
    const row = this.#db.get<{ host: string; username: string; password_sealed: string; created_at: number; updated_at: number }>(
      'SELECT host, username, password_sealed, created_at, updated_at FROM registry_credentials WHERE host = ?',
      host,
    );
    return row && { host: row.host, username: row.username, passwordSealed: row.password_sealed, createdAt: row.created_at, updatedAt: row.updated_at };
  }

  list(): RegistryLogin[] {
    return this.#db
      .all<{ host: string; username: string; created_at: number; updated_at: number }>('SELECT host, username, created_at, updated_at FROM registry_credentials ORDER BY host')
      .map((r) => ({ host: r.host, username: r.username, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  /** False when no login was stored for the host. */
  remove(host: string): boolean {
    return this.#db.run('DELETE FROM registry_credentials WHERE host = ?', host).changes === 1;
  }
}

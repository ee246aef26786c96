import type { Db } from './db.ts';

/**
 * berth's account with an ACME CA, one per directory URL: an account belongs to the CA that made it, so a
 * change of `--acme-directory` gets a new one there (and going back finds the old one again).
 */
export interface AcmeAccountRecord {
  directory: string;
  /** The account's private key (PEM), as the Sealer sealed it. */
  keySealed: string;
  /** The account URL the CA gave at registration; null while the key waits to be registered. */
  url: string | null;
  /** The contact address the account was registered (or last updated) with. */
  email: string | null;
  createdAt: number;
  updatedAt: number;
}

interface Row {
  directory: string;
  key_sealed: string;
  url: string | null;
  email: string | null;
  created_at: number;
  updated_at: number;
}

export class AcmeAccounts {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  get(directory: string): AcmeAccountRecord | undefined {
    const row = this.#db.get<Row>('SELECT * FROM acme_accounts WHERE directory = ?', directory);
    return row && { directory: row.directory, keySealed: row.key_sealed, url: row.url, email: row.email, createdAt: row.created_at, updatedAt: row.updated_at };
  }

  save(record: AcmeAccountRecord): void {
    this.#db.run(
      `INSERT INTO acme_accounts (directory, key_sealed, url, email, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (directory) DO UPDATE SET key_sealed = excluded.key_sealed, url = excluded.url, email = excluded.email, updated_at = excluded.updated_at`,
      record.directory,
      record.keySealed,
      record.url,
      record.email,
      record.createdAt,
      record.updatedAt,
    );
  }
}

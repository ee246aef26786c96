import type { CertificateRecord } from '../model/records.ts';
import type { Db } from './db.ts';

interface Row {
  domain: string;
  source: CertificateRecord['source'];
  app: string | null;
  status: CertificateRecord['status'];
  cert_pem: string | null;
  key_sealed: string | null;
  issuer: string | null;
  not_before: number | null;
  not_after: number | null;
  renew_at: number | null;
  last_error: string | null;
  attempts: number;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}

const toRecord = (r: Row): CertificateRecord => ({
  domain: r.domain,
  source: r.source,
  app: r.app,
  status: r.status,
  certPem: r.cert_pem,
  keySealed: r.key_sealed,
  issuer: r.issuer,
  notBefore: r.not_before,
  notAfter: r.not_after,
  renewAt: r.renew_at,
  lastError: r.last_error ? (JSON.parse(r.last_error) as CertificateRecord['lastError']) : null,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/**
 * The certificates berth serves, one row per hostname: ACME's (src/certs/manager.ts keeps them) and the
 * user's own (`berth certs add`). The private key only as the Sealer sealed it. The certificates API and
 * the ACME manager both use exactly these four calls.
 */
export class Certificates {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  get(domain: string): CertificateRecord | undefined {
    const row = this.#db.get<Row>('SELECT * FROM certificates WHERE domain = ?', domain);
    return row && toRecord(row);
  }

  /** Every certificate, by domain. */
  list(): CertificateRecord[] {
    return this.#db.all<Row>('SELECT * FROM certificates ORDER BY domain').map(toRecord);
  }

  /** Inserts or replaces the row of `record.domain` (its creation time kept when it existed). */
  save(record: CertificateRecord): void {
    this.#db.run(
      `INSERT INTO certificates (domain, source, app, status, cert_pem, key_sealed, issuer, not_before, not_after, renew_at,
         last_error, attempts, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (domain) DO UPDATE SET source = excluded.source, app = excluded.app, status = excluded.status,
         cert_pem = excluded.cert_pem, key_sealed = excluded.key_sealed, issuer = excluded.issuer, not_before = excluded.not_before,
         not_after = excluded.not_after, renew_at = excluded.renew_at, last_error = excluded.last_error, attempts = excluded.attempts,
         next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at`,
      record.domain,
      record.source,
      record.app,
      record.status,
      record.certPem,
      record.keySealed,
      record.issuer,
      record.notBefore,
      record.notAfter,
      record.renewAt,
      record.lastError ? JSON.stringify(record.lastError) : null,
      record.attempts,
      record.nextAttemptAt,
      record.createdAt,
      record.updatedAt,
    );
  }

  /** False when there was no certificate for the domain. */
  remove(domain: string): boolean {
    return this.#db.run('DELETE FROM certificates WHERE domain = ?', domain).changes === 1;
  }
}

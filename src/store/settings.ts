import { createHash, randomBytes } from 'node:crypto';
import type { Db } from './db.ts';

export class Settings {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  get(key: string): string | undefined {
    return this.#db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', key)?.value;
  }

  /** Returns the stored value, creating it with `make()` the first time. */
  getOrCreate(key: string, make: () => string): string {
    const existing = this.get(key);
    if (existing !== undefined) return existing;
    this.#db.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', key, make());
    return this.get(key)!;
  }
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** API tokens: only their SHA-256 is stored, so a copy of the store does not grant access. */
export class Tokens {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  count(): number {
    return this.#db.get<{ n: number }>('SELECT COUNT(*) AS n FROM tokens')!.n;
  }

  /** Creates a token and returns its plaintext (shown once, never stored). */
  create(id: string, name: string, now: number): string {
    const token = `berth_${randomBytes(24).toString('base64url')}`;
    this.#db.run('INSERT INTO tokens (id, name, hash, created_at) VALUES (?, ?, ?, ?)', id, name, hash(token), now);
    return token;
  }

  /** The token's name when it is valid. */
  verify(token: string): string | undefined {
    const digest = hash(token);
    const row = this.#db.get<{ name: string; hash: string }>('SELECT name, hash FROM tokens WHERE hash = ?', digest);
    // Looked up by the SHA-256 of the token: the lookup's timing says nothing about the token itself.
    return row?.name;
  }
}

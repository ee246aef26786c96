import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { migrate } from './migrations.ts';

/**
 * berth's store: one SQLite file in the data directory, in WAL mode so a SIGKILL at any moment leaves
 * every committed transaction intact. Every multi-row change goes through
 * `transaction`, so a crash never leaves half of one behind.
 */
export class Db {
  readonly sqlite: DatabaseSync;
  #depth = 0;
  #afterCommit: (() => void)[] = [];
  /** Prepared once per SQL text; every query here is a constant string, so this stays small. */
  readonly #statements = new Map<string, StatementSync>();

  constructor(path: string) {
    this.sqlite = new DatabaseSync(path);
    this.sqlite.exec('PRAGMA journal_mode = WAL');
    // WAL + NORMAL: a killed process never loses a commit; only a power cut may lose the last ones, never consistency.
    this.sqlite.exec('PRAGMA synchronous = NORMAL');
    this.sqlite.exec('PRAGMA foreign_keys = ON');
    this.sqlite.exec('PRAGMA busy_timeout = 5000');
    migrate(this);
  }

  /** Runs `fn` in one IMMEDIATE transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    this.sqlite.exec('BEGIN IMMEDIATE');
    this.#depth++;
    let result: T;
    try {
      result = fn();
      this.sqlite.exec('COMMIT');
    } catch (error) {
      this.sqlite.exec('ROLLBACK');
      this.#afterCommit = [];
      throw error;
    } finally {
      this.#depth--;
    }
    const pending = this.#afterCommit;
    this.#afterCommit = [];
    for (const fn of pending) fn();
    return result;
  }

  /** Runs `fn` once the current transaction commits (at once outside a transaction); dropped on rollback. */
  afterCommit(fn: () => void): void {
    if (this.#depth > 0) this.#afterCommit.push(fn);
    else fn();
  }

  #prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) this.#statements.set(sql, (statement = this.sqlite.prepare(sql)));
    return statement;
  }

  all<T>(sql: string, ...params: SqlValue[]): T[] {
    return this.#prepare(sql).all(...params) as T[];
  }

  get<T>(sql: string, ...params: SqlValue[]): T | undefined {
    return this.#prepare(sql).get(...params) as T | undefined;
  }

  run(sql: string, ...params: SqlValue[]): { changes: number; lastInsertRowid: number } {
    const result = this.#prepare(sql).run(...params);
    return { changes: Number(result.changes), lastInsertRowid: Number(result.lastInsertRowid) };
  }

  close(): void {
    this.sqlite.close();
  }
}

export type SqlValue = string | number | bigint | null | Uint8Array;

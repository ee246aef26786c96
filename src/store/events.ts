import type { Db } from './db.ts';
import type { EventRecord } from '../model/records.ts';

interface Row {
  seq: number;
  at: number;
  app: string | null;
  deployment_id: string | null;
  type: string;
  message: string;
  data: string | null;
}

const toRecord = (r: Row): EventRecord => ({
  seq: r.seq,
  at: r.at,
  app: r.app,
  deploymentId: r.deployment_id,
  type: r.type,
  message: r.message,
  data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : null,
});

export type NewEvent = Omit<EventRecord, 'seq'>;

/** The append-only event log: deploy progress, audit trail. Listeners hear each event once committed. */
export class Events {
  readonly #db: Db;
  readonly #listeners = new Set<(event: EventRecord) => void>();

  constructor(db: Db) {
    this.#db = db;
  }

  append(event: NewEvent): EventRecord {
    const { lastInsertRowid } = this.#db.run(
      'INSERT INTO events (at, app, deployment_id, type, message, data) VALUES (?, ?, ?, ?, ?, ?)',
      event.at,
      event.app,
      event.deploymentId,
      event.type,
      event.message,
      event.data ? JSON.stringify(event.data) : null,
    );
    const record = { ...event, seq: lastInsertRowid };
    // Listeners (SSE streams) must never hear of an event that a rollback then takes back.
    this.#db.afterCommit(() => {
      for (const listener of this.#listeners) listener(record);
    });
    return record;
  }

  forDeployment(deploymentId: string, afterSeq = 0): EventRecord[] {
    return this.#db.all<Row>('SELECT * FROM events WHERE deployment_id = ? AND seq > ? ORDER BY seq', deploymentId, afterSeq).map(toRecord);
  }

  /** The app's events of these types after `afterSeq`, oldest first, at most `limit` (the auto-update's settle window). */
  forAppOfTypes(app: string, types: readonly string[], afterSeq: number, limit = 100): EventRecord[] {
    return this.#db
      .all<Row>('SELECT * FROM events WHERE app = ? AND seq > ? AND type IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT ?', app, afterSeq, JSON.stringify(types), limit)
      .map(toRecord);
  }

  forApp(app: string, limit = 100): EventRecord[] {
    return this.#db.all<Row>('SELECT * FROM events WHERE app = ? ORDER BY seq DESC LIMIT ?', app, limit).map(toRecord).reverse();
  }

  subscribe(listener: (event: EventRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

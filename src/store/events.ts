import type { Db } from './db.ts';
import type { EventRecord } from '../model/records.ts';

/** A row of the events table, as SQLite gives it. */
export interface EventRow {
  seq: number;
  at: number;
  app: string | null;
  deployment_id: string | null;
  type: string;
  message: string;
  data: string | null;
}

/** A row back as the record (data parsed). */
export const eventRecord = (r: EventRow): EventRecord => ({
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
    return this.#db.all<EventRow>('SELECT * FROM events WHERE deployment_id = ? AND seq > ? ORDER BY seq', deploymentId, afterSeq).map(eventRecord);
  }

  /** The app's events of these types after `afterSeq`, oldest first, at most `limit` (the auto-update's settle window). */
  forAppOfTypes(app: string, types: readonly string[], afterSeq: number, limit = 100): EventRecord[] {
    return this.#db
      .all<EventRow>('SELECT * FROM events WHERE app = ? AND seq > ? AND type IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT ?', app, afterSeq, JSON.stringify(types), limit)
      .map(eventRecord);
  }

  forApp(app: string, limit = 100): EventRecord[] {
    return this.#db.all<EventRow>('SELECT * FROM events WHERE app = ? ORDER BY seq DESC LIMIT ?', app, limit).map(eventRecord).reverse();
  }

  /**
   * The events `filter` selects, oldest first, at most `limit`: the first ones after `afterSeq` when it is
   * given (reading on from a cursor), else the latest ones (`berth events` shows the recent past).
   */
  query(filter: EventFilter, limit: number): EventRecord[] {
    const { where, params } = whereOf(filter);
    if (filter.afterSeq !== undefined) return this.#db.all<EventRow>(`SELECT * FROM events WHERE ${where} ORDER BY seq LIMIT ?`, ...params, limit).map(eventRecord);
    return this.#db.all<EventRow>(`SELECT * FROM events WHERE ${where} ORDER BY seq DESC LIMIT ?`, ...params, limit).map(eventRecord).reverse();
  }

  /** How many events `filter` selects (`afterSeq` included), without reading them. */
  count(filter: EventFilter): number {
    const { where, params } = whereOf(filter);
    return this.#db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM events WHERE ${where}`, ...params)!.n;
  }

  /**
   * The selected events counted by type, and for `deploy.queued` by the deployment's kind as well (a
   * rollback is a deployment of kind `rollback`): the audit report's summary, exact however many there are.
   */
  tally(filter: EventFilter): { type: string; kind: string | null; count: number }[] {
    const { where, params } = whereOf(filter);
    return this.#db
      .all<{ type: string; kind: unknown; count: number }>(
        `SELECT type, CASE WHEN type = 'deploy.queued' THEN json_extract(data, '$.kind') END AS kind, COUNT(*) AS count FROM events WHERE ${where} GROUP BY 1, 2 ORDER BY 1, 2`,
        ...params,
      )
      .map((row) => ({ type: row.type, kind: typeof row.kind === 'string' ? row.kind : null, count: row.count }));
  }

  subscribe(listener: (event: EventRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** Which events a query reads; every field narrows, none given reads them all. */
export interface EventFilter {
  /** One app's events (those outside any app have a null app and are left out). */
  app?: string;
  /** Recorded at or after this time (epoch milliseconds). */
  sinceMs?: number;
  /** Recorded at or before this time (epoch milliseconds). */
  untilMs?: number;
  /** Only those with a greater seq. */
  afterSeq?: number;
  /** Only these types (an empty list selects none). */
  types?: readonly string[];
  /** None of these types. */
  notTypes?: readonly string[];
}

/** The filter as SQL: fixed text, every value a parameter. */
function whereOf(filter: EventFilter): { where: string; params: (string | number)[] } {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  const add = (clause: string, value: string | number) => {
    clauses.push(clause);
    params.push(value);
  };
  if (filter.app !== undefined) add('app = ?', filter.app);
  if (filter.sinceMs !== undefined) add('at >= ?', filter.sinceMs);
  if (filter.untilMs !== undefined) add('at <= ?', filter.untilMs);
  if (filter.afterSeq !== undefined) add('seq > ?', filter.afterSeq);
  if (filter.types !== undefined) add('type IN (SELECT value FROM json_each(?))', JSON.stringify(filter.types));
  if (filter.notTypes !== undefined) add('type NOT IN (SELECT value FROM json_each(?))', JSON.stringify(filter.notTypes));
  return { where: clauses.length ? clauses.join(' AND ') : '1', params };
}

/** Whether `event` is one `filter` selects (for live events, which arrive one by one). */
export function matchesFilter(event: EventRecord, filter: EventFilter): boolean {
  if (filter.app !== undefined && event.app !== filter.app) return false;
  if (filter.sinceMs !== undefined && event.at < filter.sinceMs) return false;
  if (filter.untilMs !== undefined && event.at > filter.untilMs) return false;
  if (filter.afterSeq !== undefined && event.seq <= filter.afterSeq) return false;
  if (filter.types !== undefined && !filter.types.includes(event.type)) return false;
  if (filter.notTypes !== undefined && filter.notTypes.includes(event.type)) return false;
  return true;
}

import type { EventRecord } from '../model/records.ts';
import type { Db } from './db.ts';
import { eventRecord, type EventRow } from './events.ts';

export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** One message to one notifier: queued (pending), then delivered or given up (failed), then history. */
export interface DeliveryRecord {
  /** The queue order: per notifier, lower first. */
  seq: number;
  /** `dlv_...`: sent as X-Berth-Delivery and as the body's `id`, the same on every attempt. */
  id: string;
  notifier: string;
  /** The event it tells of; null for `berth notify test`. */
  eventSeq: number | null;
  type: string;
  app: string | null;
  /** The notification as JSON (src/notify/payload.ts `Notification`): no secrets, fixed when queued. */
  payload: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  finishedAt: number | null;
}

export type NewDelivery = Pick<DeliveryRecord, 'id' | 'notifier' | 'eventSeq' | 'type' | 'app' | 'payload'> & { state?: DeliveryState; lastError?: string };

interface Row {
  seq: number;
  id: string;
  notifier: string;
  event_seq: number | null;
  type: string;
  app: string | null;
  payload: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  finished_at: number | null;
}

const toRecord = (r: Row): DeliveryRecord => ({
  seq: r.seq,
  id: r.id,
  notifier: r.notifier,
  eventSeq: r.event_seq,
  type: r.type,
  app: r.app,
  payload: r.payload,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastStatus: r.last_status,
  lastError: r.last_error,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});


/**
 * The notification queue and its history. Rows are only ever added by `enqueue` (in the transaction that
 * moves the cursor) and finished by the controller; the history is trimmed to the newest `keep` per notifier.
 */
export class NotifyDeliveries {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** The last event seq the queue has taken in; undefined before the first pass. */
  cursor(): number | undefined {
    return this.#db.get<{ event_seq: number }>('SELECT event_seq FROM notify_cursor WHERE id = 1')?.event_seq;
  }

  setCursor(seq: number): void {
    this.#db.run('INSERT INTO notify_cursor (id, event_seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET event_seq = excluded.event_seq', seq);
  }

  /** The newest event's seq (0 for none). */
  lastEventSeq(): number {
    return this.#db.get<{ seq: number }>('SELECT COALESCE(MAX(seq), 0) AS seq FROM events')!.seq;
  }

  /** Events after `afterSeq` of these types, oldest first, at most `limit` (read here so events.ts stays the log's writer). */
  eventsAfter(afterSeq: number, types: readonly string[], limit: number): EventRecord[] {
    return this.#db
      .all<EventRow>('SELECT * FROM events WHERE seq > ? AND type IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT ?', afterSeq, JSON.stringify(types), limit)
      .map(eventRecord);
  }

  /** Queues one delivery; a second one for the same notifier and event is ignored (false). */
  enqueue(d: NewDelivery, now: number): boolean {
    const state = d.state ?? 'pending';
    const { changes } = this.#db.run(
      `INSERT OR IGNORE INTO notify_deliveries (id, notifier, event_seq, type, app, payload, state, attempts, next_attempt_at, last_error, created_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)`,
      d.id,
      d.notifier,
      d.eventSeq,
      d.type,
      d.app,
      d.payload,
      state,
      now,
      d.lastError ?? null,
      now,
      state === 'pending' ? null : now,
    );
    return changes === 1;
  }

  /** The oldest pending delivery of the notifier: the head of its queue, which blocks the rest. */
  head(notifier: string): DeliveryRecord | undefined {
    const row = this.#db.get<Row>("SELECT * FROM notify_deliveries WHERE notifier = ? AND state = 'pending' ORDER BY seq LIMIT 1", notifier);
    return row && toRecord(row);
  }

  pendingCount(notifier: string): number {
    return this.#db.get<{ n: number }>("SELECT COUNT(*) AS n FROM notify_deliveries WHERE notifier = ? AND state = 'pending'", notifier)!.n;
  }

  /** The notifiers that have something pending. */
  notifiersWithPending(): string[] {
    return this.#db.all<{ notifier: string }>("SELECT DISTINCT notifier FROM notify_deliveries WHERE state = 'pending'").map((r) => r.notifier);
  }

  /**
   * One attempt's outcome: delivered or failed (finished), or pending again until `nextAttemptAt`. A success
   * keeps the error of the attempt before it (the history says why it took more than one).
   */
  record(id: string, outcome: { state: DeliveryState; status: number | null; error: string | null; nextAttemptAt?: number }, now: number): void {
    this.#db.run(
      `UPDATE notify_deliveries SET state = ?, attempts = attempts + 1, last_status = ?, last_error = COALESCE(?, last_error), next_attempt_at = ?, finished_at = ?
       WHERE id = ? AND state = 'pending'`,
      outcome.state,
      outcome.status,
      outcome.error,
      outcome.nextAttemptAt ?? now,
      outcome.state === 'pending' ? null : now,
      id,
    );
  }

  /** A test message, sent at once outside the queue, kept in the history. */
  recordTest(d: Omit<NewDelivery, 'state'> & { delivered: boolean; status: number | null; error: string | null }, now: number): void {
    this.#db.run(
      `INSERT INTO notify_deliveries (id, notifier, event_seq, type, app, payload, state, attempts, next_attempt_at, last_status, last_error, created_at, finished_at)
       VALUES (?, ?, NULL, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
      d.id,
      d.notifier,
      d.type,
      d.app,
      d.payload,
      d.delivered ? 'delivered' : 'failed',
      now,
      d.status,
      d.error,
      now,
      now,
    );
  }

  /** Newest first: one notifier's, or everyone's. */
  history(options: { notifier?: string; limit: number }): DeliveryRecord[] {
    const rows = options.notifier
      ? this.#db.all<Row>('SELECT * FROM notify_deliveries WHERE notifier = ? ORDER BY seq DESC LIMIT ?', options.notifier, options.limit)
      : this.#db.all<Row>('SELECT * FROM notify_deliveries ORDER BY seq DESC LIMIT ?', options.limit);
    return rows.map(toRecord);
  }

  get(id: string): DeliveryRecord | undefined {
    const row = this.#db.get<Row>('SELECT * FROM notify_deliveries WHERE id = ?', id);
    return row && toRecord(row);
  }

  /** Keeps the newest `keep` finished deliveries of the notifier (pending ones are never trimmed). */
  trim(notifier: string, keep: number): number {
    return this.#db.run(
      `DELETE FROM notify_deliveries WHERE notifier = ? AND state != 'pending' AND seq < COALESCE(
         (SELECT seq FROM notify_deliveries WHERE notifier = ? AND state != 'pending' ORDER BY seq DESC LIMIT 1 OFFSET ?), -1)`,
      notifier,
      notifier,
      keep - 1,
    ).changes;
  }
}

import type { Db } from './db.ts';

export type NotifierKind = 'slack' | 'webhook';

/**
 * One notifier (`berth notify add`): where berth posts the events it wants. The URL (Slack's carries its
 * secret in the path) and the signing secret only as the Sealer sealed them; `target` is the scheme and
 * host alone (`https://hooks.slack.com`), what `berth notify list` may show.
 */
export interface NotifierRecord {
  name: string;
  kind: NotifierKind;
  urlSealed: string;
  target: string;
  /** A webhook's HMAC key, sealed; null for Slack (its URL is its secret). */
  secretSealed: string | null;
  /** The event types it wants; null for src/notify/events.ts DEFAULT_EVENTS. */
  events: string[] | null;
  /** The last event seq when it was added: only later events are posted to it. */
  fromSeq: number;
  createdAt: number;
}

/** What the API may show of a notifier: no URL, no secret, not even sealed. */
export type NotifierInfo = Omit<NotifierRecord, 'urlSealed' | 'secretSealed'>;

interface Row {
  name: string;
  kind: NotifierKind;
  url_sealed: string;
  target: string;
  secret_sealed: string | null;
  events: string | null;
  from_seq: number;
  created_at: number;
}

const toRecord = (r: Row): NotifierRecord => ({
  name: r.name,
  kind: r.kind,
  urlSealed: r.url_sealed,
  target: r.target,
  secretSealed: r.secret_sealed,
  events: r.events === null ? null : (JSON.parse(r.events) as string[]),
  fromSeq: r.from_seq,
  createdAt: r.created_at,
});

const info = ({ urlSealed: _u, secretSealed: _s, ...rest }: NotifierRecord): NotifierInfo => rest;

/** The notifiers, by name. Removing one removes its queue and history with it (ON DELETE CASCADE). */
export class Notifiers {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Adds a notifier that hears of events after the newest one now (read in the same statement, so no
   * event committed before the add is ever posted to it). False when the name is taken.
   */
  add(n: Omit<NotifierRecord, 'fromSeq'>): boolean {
    const { changes } = this.#db.run(
      `INSERT INTO notifiers (name, kind, url_sealed, target, secret_sealed, events, from_seq, created_at)
       SELECT ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) FROM events), ? WHERE NOT EXISTS (SELECT 1 FROM notifiers WHERE name = ?)`,
      n.name,
      n.kind,
      n.urlSealed,
      n.target,
      n.secretSealed,
      n.events === null ? null : JSON.stringify(n.events),
      n.createdAt,
      n.name,
    );
    return changes === 1;
  }

  get(name: string): NotifierRecord | undefined {
    const row = this.#db.get<Row>('SELECT * FROM notifiers WHERE name = ?', name);
    return row && toRecord(row);
  }

  /** Every notifier with its sealed parts, for the delivery controller only. */
  all(): NotifierRecord[] {
    return this.#db.all<Row>('SELECT * FROM notifiers ORDER BY name').map(toRecord);
  }

  /** Every notifier as the API may show it. */
  list(): NotifierInfo[] {
    return this.all().map(info);
  }

  /** False when there was none of that name. */
  remove(name: string): boolean {
    return this.#db.run('DELETE FROM notifiers WHERE name = ?', name).changes === 1;
  }
}

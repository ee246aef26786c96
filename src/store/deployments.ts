import { checkDeploymentTransition, HOLDING_STATES, isTerminal, UNFINISHED_STATES, type DeploymentState } from '../model/states.ts';
import type { Db } from './db.ts';
import type { DeploymentError, DeploymentKind, DeploymentRecord } from '../model/records.ts';

interface Row {
  id: string;
  app: string;
  kind: DeploymentKind;
  state: DeploymentState;
  release_id: string | null;
  previous_release_id: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

const toRecord = (r: Row): DeploymentRecord => ({
  id: r.id,
  app: r.app,
  kind: r.kind,
  state: r.state,
  releaseId: r.release_id,
  previousReleaseId: r.previous_release_id,
  error: r.error ? (JSON.parse(r.error) as DeploymentError) : null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at,
});

const sqlList = (states: readonly string[]) => `(${states.map((s) => `'${s}'`).join(', ')})`;
const HOLDING = sqlList(HOLDING_STATES);
const UNFINISHED = sqlList(UNFINISHED_STATES);

export class Deployments {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  insert(d: Pick<DeploymentRecord, 'id' | 'app' | 'kind' | 'releaseId' | 'previousReleaseId'>, now: number): DeploymentRecord {
    this.#db.run(
      "INSERT INTO deployments (id, app, kind, state, release_id, previous_release_id, created_at, updated_at) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)",
      d.id,
      d.app,
      d.kind,
      d.releaseId,
      d.previousReleaseId,
      now,
      now,
    );
    return this.get(d.id)!;
  }

  get(id: string): DeploymentRecord | undefined {
    const row = this.#db.get<Row>('SELECT * FROM deployments WHERE id = ?', id);
    return row && toRecord(row);
  }

  /** Newest first. */
  listByApp(app: string, limit = 50): DeploymentRecord[] {
    return this.#db.all<Row>('SELECT * FROM deployments WHERE app = ? ORDER BY created_at DESC, id DESC LIMIT ?', app, limit).map(toRecord);
  }

  /** The deployment currently holding the app (at most one), if any. */
  holding(app: string): DeploymentRecord | undefined {
    const row = this.#db.get<Row>(`SELECT * FROM deployments WHERE app = ? AND state IN ${HOLDING} ORDER BY created_at LIMIT 1`, app);
    return row && toRecord(row);
  }

  unfinished(): DeploymentRecord[] {
    return this.#db.all<Row>(`SELECT * FROM deployments WHERE state IN ${UNFINISHED} ORDER BY created_at`).map(toRecord);
  }

  setReleases(id: string, releaseId: string | null, previousReleaseId: string | null, now: number): void {
    this.#db.run('UPDATE deployments SET release_id = ?, previous_release_id = ?, updated_at = ? WHERE id = ?', releaseId, previousReleaseId, now, id);
  }

  /** Moves a deployment along its state machine; refuses transitions it does not list. */
  move(id: string, to: DeploymentState, now: number, fields: { releaseId?: string; error?: DeploymentError } = {}): DeploymentRecord {
    const current = this.get(id);
    if (!current) throw new Error(`no deployment ${id}`);
    checkDeploymentTransition(current.state, to);
    this.#db.run(
      `UPDATE deployments SET state = ?, updated_at = ?, finished_at = ?, release_id = COALESCE(?, release_id), error = COALESCE(?, error) WHERE id = ?`,
      to,
      now,
      isTerminal(to) ? now : null,
      fields.releaseId ?? null,
      fields.error ? JSON.stringify(fields.error) : null,
      id,
    );
    return this.get(id)!;
  }
}

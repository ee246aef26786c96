import { checkInstanceTransition, type InstanceState } from '../model/states.ts';
import type { Db } from './db.ts';
import type { InstanceRecord } from '../model/records.ts';

interface Row {
  id: string;
  app: string;
  release_id: string;
  deployment_id: string | null;
  process: string;
  ordinal: number;
  state: InstanceState;
  address: string | null;
  state_until: number | null;
  created_at: number;
  updated_at: number;
}

const toRecord = (r: Row): InstanceRecord => ({
  id: r.id,
  app: r.app,
  releaseId: r.release_id,
  deploymentId: r.deployment_id,
  process: r.process,
  ordinal: r.ordinal,
  state: r.state,
  address: r.address,
  stateUntil: r.state_until,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const LIVE = "('starting', 'serving', 'draining', 'standby', 'stopping')";

export class Instances {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  insert(i: Pick<InstanceRecord, 'id' | 'app' | 'releaseId' | 'deploymentId' | 'process' | 'ordinal'>, now: number): void {
    this.#db.run(
      "INSERT INTO instances (id, app, release_id, deployment_id, process, ordinal, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'starting', ?, ?)",
      i.id,
      i.app,
      i.releaseId,
      i.deploymentId,
      i.process,
      i.ordinal,
      now,
      now,
    );
  }

  get(id: string): InstanceRecord | undefined {
    const row = this.#db.get<Row>('SELECT * FROM instances WHERE id = ?', id);
    return row && toRecord(row);
  }

  /** Instances that are not stopped or failed (optionally of one app). */
  live(app?: string): InstanceRecord[] {
    const rows = app
      ? this.#db.all<Row>(`SELECT * FROM instances WHERE app = ? AND state IN ${LIVE} ORDER BY created_at, ordinal`, app)
      : this.#db.all<Row>(`SELECT * FROM instances WHERE state IN ${LIVE} ORDER BY created_at, ordinal`);
    return rows.map(toRecord);
  }

  byRelease(releaseId: string): InstanceRecord[] {
    return this.#db.all<Row>('SELECT * FROM instances WHERE release_id = ? ORDER BY ordinal', releaseId).map(toRecord);
  }

  byDeployment(deploymentId: string): InstanceRecord[] {
    return this.#db.all<Row>('SELECT * FROM instances WHERE deployment_id = ? ORDER BY process, ordinal', deploymentId).map(toRecord);
  }

  all(app: string): InstanceRecord[] {
    return this.#db.all<Row>('SELECT * FROM instances WHERE app = ? ORDER BY created_at', app).map(toRecord);
  }

  move(id: string, to: InstanceState, now: number, fields: { address?: string | null; stateUntil?: number | null } = {}): void {
    const current = this.get(id);
    if (!current) throw new Error(`no instance ${id}`);
    checkInstanceTransition(current.state, to);
    this.#db.run(
      'UPDATE instances SET state = ?, updated_at = ?, address = ?, state_until = ? WHERE id = ?',
      to,
      now,
      fields.address === undefined ? current.address : fields.address,
      fields.stateUntil === undefined ? null : fields.stateUntil,
      id,
    );
  }

  setAddress(id: string, address: string | null, now: number): void {
    this.#db.run('UPDATE instances SET address = ?, updated_at = ? WHERE id = ?', address, now, id);
  }
}

import type { CanaryJudgement, RolloutState } from '../model/wire-rollout.ts';
import { ACTIVE_ROLLOUT_STATES } from '../model/wire-rollout.ts';
import type { Db } from './db.ts';

/**
 * A canary deployment's rollout (deploy/canary/): one row per canary deployment, kept after it ends (the
 * history `berth status` and the audit read). The route table's split comes from the app's active one,
 * so a daemon restart, a promote or an abort all start from what is written here.
 */
export interface RolloutRecord {
  deploymentId: string;
  app: string;
  canaryReleaseId: string;
  stableReleaseId: string;
  /** How many steps berth.yaml lists. */
  steps: number;
  /** The step under way, from 0. */
  step: number;
  /** The share of clients sent to the canary now, 0..100. */
  percent: number;
  sticky: 'cookie' | 'address';
  stepStartedAt: number;
  stepEndsAt: number;
  state: RolloutState;
  /** The last judgement, null before the first. */
  last: CanaryJudgement | null;
  /** Why it ended early (an abort, a promote asked for), null otherwise. */
  reason: string | null;
  createdAt: number;
  updatedAt: number;
}

interface Row {
  deployment_id: string;
  app: string;
  canary_release_id: string;
  stable_release_id: string;
  steps: number;
  step: number;
  percent: number;
  sticky: 'cookie' | 'address';
  step_started_at: number;
  step_ends_at: number;
  state: RolloutState;
  verdicts: string;
  reason: string | null;
  created_at: number;
  updated_at: number;
}

const toRecord = (r: Row): RolloutRecord => ({
  deploymentId: r.deployment_id,
  app: r.app,
  canaryReleaseId: r.canary_release_id,
  stableReleaseId: r.stable_release_id,
  steps: r.steps,
  step: r.step,
  percent: r.percent,
  sticky: r.sticky,
  stepStartedAt: r.step_started_at,
  stepEndsAt: r.step_ends_at,
  state: r.state,
  last: r.verdicts === '[]' || r.verdicts === 'null' ? null : (JSON.parse(r.verdicts) as CanaryJudgement),
  reason: r.reason,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const ACTIVE_SQL = ACTIVE_ROLLOUT_STATES.map((s) => `'${s}'`).join(', ');

/** What may change on a rollout after it is created. */
export type RolloutChange = Partial<Pick<RolloutRecord, 'step' | 'percent' | 'stepStartedAt' | 'stepEndsAt' | 'state' | 'last' | 'reason'>>;

export class Rollouts {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  insert(record: Omit<RolloutRecord, 'createdAt' | 'updatedAt' | 'last' | 'reason'>, now: number): RolloutRecord {
    this.#db.run(
      `INSERT INTO rollouts (deployment_id, app, canary_release_id, stable_release_id, steps, step, percent, sticky, step_started_at, step_ends_at, state, verdicts, reason, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'null', NULL, ?, ?)`,
      record.deploymentId,
      record.app,
      record.canaryReleaseId,
      record.stableReleaseId,
      record.steps,
      record.step,
      record.percent,
      record.sticky,
      record.stepStartedAt,
      record.stepEndsAt,
      record.state,
      now,
      now,
    );
    return this.get(record.deploymentId)!;
  }

  get(deploymentId: string): RolloutRecord | undefined {
    const row = this.#db.get<Row>('SELECT * FROM rollouts WHERE deployment_id = ?', deploymentId);
    return row && toRecord(row);
  }

  /** The app's rollout that still holds traffic (running, promoting or aborting); at most one, as one deployment runs per app. */
  active(app: string): RolloutRecord | undefined {
    const row = this.#db.get<Row>(`SELECT * FROM rollouts WHERE app = ? AND state IN (${ACTIVE_SQL}) ORDER BY created_at DESC LIMIT 1`, app);
    return row && toRecord(row);
  }

  /** Every rollout that still holds traffic (start-up recovery finishes them). */
  allActive(): RolloutRecord[] {
    return this.#db.all<Row>(`SELECT * FROM rollouts WHERE state IN (${ACTIVE_SQL}) ORDER BY created_at`).map(toRecord);
  }

  update(deploymentId: string, change: RolloutChange, now: number): RolloutRecord {
    const current = this.get(deploymentId);
    if (!current) throw new Error(`no rollout for deployment ${deploymentId}`);
    const next = { ...current, ...change };
    this.#db.run(
      `UPDATE rollouts SET step = ?, percent = ?, step_started_at = ?, step_ends_at = ?, state = ?, verdicts = ?, reason = ?, updated_at = ? WHERE deployment_id = ?`,
      next.step,
      next.percent,
      next.stepStartedAt,
      next.stepEndsAt,
      next.state,
      JSON.stringify(next.last),
      next.reason,
      now,
      deploymentId,
    );
    return { ...next, updatedAt: now };
  }
}

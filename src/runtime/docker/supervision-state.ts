/**
 * The docker driver's record of how it supervises one instance, in <root>/instances/<id>.json, rewritten
 * atomically on every change. The container holds everything else (spec, policy label, exit code); what
 * the engine cannot hold is berth's own accounting: restarts, recent crash times, whether berth is waiting
 * out a back-off or gave up (crash loop). It outlives a daemon restart so adopt() resumes where it was.
 * No env or secrets in it.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.ts';
import type { ExitInfo } from '../driver.ts';
import { isSafeName } from '../log-tree.ts';

export interface SupervisionState {
  version: 1;
  id: string;
  /** running: berth expects the container up; restarting: waiting to start it again; crashloop: gave up. */
  state: 'running' | 'restarting' | 'crashloop';
  restarts: number;
  /** Recent crash times (epoch ms) inside the restart window. */
  crashes: number[];
  lastExit?: ExitInfo;
  /** When a restarting instance is due to start again (epoch ms). */
  restartAt?: number;
  /**
   * Why it is restarting: `crash` (the restart policy's back-off; counted in `restarts` once it is back) or
   * `outside` (the engine shutting down, or someone stopping the container behind berth's back; not a crash).
   */
  reason?: 'crash' | 'outside';
  /** State.StartedAt of the run berth last saw, to tell it from a run started behind berth's back. */
  startedAt?: string;
}

export class SupervisionStore {
  readonly #dir: string;
  constructor(dir: string) {
    this.#dir = dir;
  }

  read(id: string): SupervisionState | undefined {
    if (!isSafeName(id)) return undefined;
    try {
      const value = JSON.parse(readFileSync(this.#file(id), 'utf8')) as SupervisionState;
      return value?.version === 1 && value.id === id ? value : undefined;
    } catch {
      return undefined;
    }
  }

  write(state: SupervisionState): void {
    if (!isSafeName(state.id)) return;
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(this.#file(state.id), JSON.stringify(state) + '\n', 0o600);
  }

  remove(id: string): void {
    if (isSafeName(id)) rmSync(this.#file(id), { force: true });
  }

  /** Ids that have a record. */
  ids(): string[] {
    try {
      return readdirSync(this.#dir)
        .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
        .map((name) => name.slice(0, -'.json'.length));
    } catch {
      return [];
    }
  }

  #file(id: string): string {
    return join(this.#dir, `${id}.json`);
  }
}

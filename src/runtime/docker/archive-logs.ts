/**
 * Logs of stopped instances. A container's log goes when the container does, so stop() copies it into
 * berth's own store first (JSON lines, masked, one file per instance under <root>/logs/<app>/<release>),
 * and logs() reads from there once the container is gone.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { appendToStore, readStore, type StoredLine } from '../log-store.ts';
import { findInLogTree, isSafeName } from '../log-tree.ts';
import type { LogLine, LogPruneResult } from '../driver.ts';
import { pruneLogTree } from '../log-retention.ts';

export class LogArchive {
  readonly #root: string;
  constructor(root: string) {
    this.#root = root;
  }

  save(who: { app: string; release: string; id: string }, lines: StoredLine[]): void {
    if (![who.app, who.release, who.id].every(isSafeName)) return;
    mkdirSync(join(this.#root, who.app, who.release), { recursive: true, mode: 0o700 });
    appendToStore(join(this.#root, who.app, who.release, `${who.id}.jsonl`), lines, 20 * 1024 * 1024);
  }

  /** The archived lines of an instance, wherever they are (it is no longer known which app it was). */
  read(id: string): LogLine[] | null {
    if (!isSafeName(id)) return null;
    const found = findInLogTree(this.#root, (name) => name === `${id}.jsonl`);
    return found && readStore(join(this.#root, found.app, found.release, found.name), id);
  }

  /** Retention: archived lines older than `cutoff` go (../log-retention.ts). */
  prune(cutoff: number): LogPruneResult {
    return pruneLogTree(this.#root, cutoff);
  }

  remove(app: string, release?: string): void {
    if (!isSafeName(app) || (release !== undefined && !isSafeName(release))) return;
    rmSync(release === undefined ? join(this.#root, app) : join(this.#root, app, release), { recursive: true, force: true });
  }
}

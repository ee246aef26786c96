/**
 * Logs of stopped instances. A container's log goes when the container does, so stop() copies it into
 * berth's own store first (JSON lines, masked, one file per instance under <root>/logs/<app>/<release>),
 * and logs() reads from there once the container is gone.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { appendToStore, readStore, type StoredLine } from '../log-store.ts';
import type { LogLine } from '../driver.ts';

const SAFE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export class LogArchive {
  readonly #root: string;
  constructor(root: string) {
    this.#root = root;
  }

  #file(app: string, release: string, id: string): string | null {
    if (![app, release, id].every((part) => SAFE.test(part))) return null;
    return join(this.#root, app, release, `${id}.jsonl`);
  }

  save(who: { app: string; release: string; id: string }, lines: StoredLine[]): void {
    const file = this.#file(who.app, who.release, who.id);
    if (!file) return;
    mkdirSync(join(this.#root, who.app, who.release), { recursive: true, mode: 0o700 });
    appendToStore(file, lines, 20 * 1024 * 1024);
  }

  /** The archived lines of an instance, wherever they are (it is no longer known which app it was). */
  read(id: string): LogLine[] | null {
    if (!SAFE.test(id) || !existsSync(this.#root)) return null;
    for (const app of readdirSync(this.#root)) {
      for (const release of readdirSync(join(this.#root, app))) {
        const file = join(this.#root, app, release, `${id}.jsonl`);
        if (existsSync(file)) return readStore(file, id);
      }
    }
    return null;
  }

  remove(app: string, release?: string): void {
    if (!SAFE.test(app) || (release !== undefined && !SAFE.test(release))) return;
    rmSync(release === undefined ? join(this.#root, app) : join(this.#root, app, release), { recursive: true, force: true });
  }
}

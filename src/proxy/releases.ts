import type { ReleaseStats } from '../dataplane/route-table.ts';
import { ReleaseCounters } from './stats.ts';

/** A release no target names any more is forgotten this long after it was last seen busy or named. */
export const RELEASE_FORGET_MS = 60 * 60_000;

/**
 * The per-release counters, by app and release. Targets come and go with route tables; their release's
 * counters stay here, so a scraper sees totals that only go up. Forgetting is done by `sweep` (on stats
 * reads, table changes and a timer), which also notices activity by comparing counts: the hot path never
 * reads a clock for this. So a release is forgotten between one hour and one hour plus a sweep interval
 * after its last request (or after the last table that named it, whichever is later).
 */
export class ReleaseBook {
  readonly #byKey = new Map<string, ReleaseCounters>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** The counters of `release` of `app`, made on first use. */
  counters(app: string, release: string): ReleaseCounters {
    const key = `${app}\u0000${release}`;
    let counters = this.#byKey.get(key);
    if (!counters) {
      counters = new ReleaseCounters(app, release, this.#now());
      this.#byKey.set(key, counters);
    }
    return counters;
  }

  /** Forgets idle releases that no live target (`named`) uses, an hour after they were last seen active. */
  sweep(named: ReadonlySet<ReleaseCounters>): void {
    const now = this.#now();
    for (const [key, c] of this.#byKey) {
      const activity = c.requests + c.websocketsOpened + c.upstreamErrors;
      if (named.has(c) || c.inflight > 0 || c.websockets > 0 || activity !== c.seenActivity) {
        c.lastActive = now;
        c.seenActivity = activity;
        continue;
      }
      if (now - c.lastActive >= RELEASE_FORGET_MS) this.#byKey.delete(key);
    }
  }

  snapshot(): ReleaseStats[] {
    return [...this.#byKey.values()].map((c) => c.snapshot());
  }
}

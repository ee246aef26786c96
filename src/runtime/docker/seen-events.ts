/**
 * Which engine events the driver's watch has already handled, so a reconnect that asks the engine to
 * replay a little of the past skips what came twice (pure).
 *
 * Events are told apart by what they are (time, action, container), never by being older than the newest
 * one seen: the engine stamps an event when it is made, not when it is published, so events of two
 * containers made at the same moment (the engine stopping every container as it shuts down) can arrive
 * out of time order. Dropping every event older than the last one lost a `kill` (an engine stop then
 * looked like a crash) or a `die` (an exit never handled).
 */
import type { EngineEvent } from './engine.ts';

/** How far before the newest event seen a reconnect asks the engine to replay from. */
export const REPLAY_MARGIN_NS = 1_000_000_000;
/** Most keys kept, whatever their times, so an event storm cannot grow the set without limit. */
const MAX_KEPT = 10_000;

const keyOf = (event: EngineEvent) => `${event.timeNano}:${event.Action}:${event.Actor.ID}`;

export class SeenEvents {
  readonly #keys = new Map<string, number>();
  #newest: number | undefined;

  /** Where a reconnect resumes (engine time in ns), or undefined before the first event. */
  get resumeFrom(): number | undefined {
    return this.#newest === undefined ? undefined : Math.max(0, this.#newest - REPLAY_MARGIN_NS);
  }

  /** Records the event; false when it was seen already (a replay), so it is skipped. */
  add(event: EngineEvent): boolean {
    const key = keyOf(event);
    if (this.#keys.has(key)) return false;
    this.#keys.set(key, event.timeNano);
    if (this.#newest === undefined || event.timeNano > this.#newest) this.#newest = event.timeNano;
    this.#prune();
    return true;
  }

  get size(): number {
    return this.#keys.size;
  }

  /** Forgets what a replay can no longer bring back: keys older than the margin, and the oldest beyond MAX_KEPT. */
  #prune(): void {
    const oldest = (this.#newest ?? 0) - REPLAY_MARGIN_NS;
    for (const [key, time] of this.#keys) {
      // Insertion order is close to time order: stop at the first key still inside the window.
      if (time >= oldest && this.#keys.size <= MAX_KEPT) break;
      this.#keys.delete(key);
    }
  }
}

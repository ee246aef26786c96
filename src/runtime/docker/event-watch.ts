/**
 * The docker driver's watch on the engine's event stream: the `die`, `start`, `oom` and `kill` events of
 * berth's instances, each handed on once, for as long as the driver lives.
 *
 * A reconnect resumes a little before the newest event seen, so a die or start in the gap is not lost
 * (what comes twice is skipped, ./seen-events.ts: events arrive out of time order, so "older than the last
 * one" is no test for "seen"); and since a lost stream usually means the engine restarted (containers
 * stopped, new addresses), every instance is looked at again once it is back (resync()). While the stream
 * is down, the engine is pinged before each new attempt.
 */
import type { Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/log.ts';
import type { DockerEngine, EngineEvent, Filters } from './engine.ts';
import { LABEL, ownerFilter } from './names.ts';
import { SeenEvents } from './seen-events.ts';

/** How long the watch waits between two attempts (after a lost stream, or an engine that does not answer). */
const RECONNECT_MS = 1000;

/** Who the events go to (the supervisor). */
export interface EngineEventSink {
  onEvent(event: EngineEvent): void;
  /** The stream ended or failed: what happens until resync() is the engine's doing. */
  streamLost(): void;
  /** The stream is back. */
  resync(): Promise<void>;
}

/** The events the watch asks for: the lifecycle of this berth's instance containers. */
export function instanceEventFilters(ownerId: string): Filters {
  return { type: ['container'], event: ['die', 'start', 'oom', 'kill'], ...ownerFilter(ownerId, [`${LABEL.kind}=instance`]) };
}

export class EngineEventWatch {
  readonly #engine: DockerEngine;
  readonly #ownerId: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #sink: EngineEventSink;
  readonly #signal: AbortSignal;
  readonly #seen = new SeenEvents();
  /** The stream was lost and has not been had again since. */
  #lost = false;

  constructor(options: { engine: DockerEngine; ownerId: string; clock: Clock; log: Logger; sink: EngineEventSink; signal: AbortSignal }) {
    this.#engine = options.engine;
    this.#ownerId = options.ownerId;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#sink = options.sink;
    this.#signal = options.signal;
  }

  /** Follows the stream until the signal aborts; never rejects. */
  async run(): Promise<void> {
    while (!this.#signal.aborted) {
      if (this.#lost && !(await this.#engine.ping())) {
        await this.#pause();
        continue;
      }
      try {
        await this.#follow();
      } catch (error) {
        if (this.#signal.aborted) return;
        this.#log.warn('lost the engine event stream; reconnecting', { error: error as Error });
      }
      if (this.#signal.aborted) return;
      if (!this.#lost) {
        this.#lost = true;
        this.#sink.streamLost();
      }
      await this.#pause();
    }
  }

  /** One connection: from where the last one left off, until it ends or fails. */
  async #follow(): Promise<void> {
    const resumeFrom = this.#seen.resumeFrom;
    const events = this.#engine.events({ filters: instanceEventFilters(this.#ownerId), signal: this.#signal, ...(resumeFrom !== undefined ? { sinceNano: resumeFrom } : {}) });
    if (this.#lost) {
      this.#lost = false;
      void this.#sink.resync().catch((error) => this.#log.warn('resync after the engine came back failed', { error: error as Error }));
    }
    for await (const event of events) if (this.#seen.add(event)) this.#sink.onEvent(event);
  }

  #pause(): Promise<void> {
    return this.#clock.sleep(RECONNECT_MS, this.#signal).catch(() => {});
  }
}

/**
 * `GET /v1/events?follow=1`: the selected events recorded so far, then each new one as it is committed,
 * each once and in seq order, until the reader goes away. The past is read in pages, waiting for the
 * reader between pages (so a slow one holds no more than a page in memory); the last page is read in the
 * same tick as the switch to live events, so no event falls between the two.
 */
import type { EventRecord } from '../model/records.ts';
import { matchesFilter, type EventFilter, type Events } from '../store/events.ts';

export interface EventsFollower {
  /** Aborts when the reader goes away: no more events are passed. */
  readonly signal: AbortSignal;
  event(event: EventRecord): void;
  /** Resolves when the reader can take another page (its buffer drained). */
  ready(): Promise<void>;
}

/**
 * Passes `filter`'s events to `follower`: without `afterSeq` the latest `pageSize` first, with it every
 * one after it; then live ones. Resolves once it is live (or the follower went away meanwhile).
 */
export async function followEvents(events: Pick<Events, 'query' | 'subscribe'>, filter: EventFilter, pageSize: number, follower: EventsFollower): Promise<void> {
  let last = filter.afterSeq ?? 0;
  let live = false;
  const pass = (event: EventRecord) => {
    if (follower.signal.aborted || event.seq <= last) return;
    last = event.seq;
    follower.event(event);
  };
  // Subscribed first; events committed while the past is read are ignored here and read by the next page.
  const unsubscribe = events.subscribe((event) => {
    if (live && matchesFilter(event, { ...filter, afterSeq: last })) pass(event);
  });
  follower.signal.addEventListener('abort', unsubscribe, { once: true });
  let page = events.query(filter, pageSize);
  for (;;) {
    for (const event of page) pass(event);
    if (follower.signal.aborted) return unsubscribe();
    // A full page: more may follow it; the reader takes this one in first.
    if (page.length === pageSize) {
      await follower.ready();
      if (follower.signal.aborted) return unsubscribe();
    }
    page = events.query({ ...filter, afterSeq: last }, pageSize);
    if (page.length < pageSize) break;
  }
  // The last page and the switch to live events in one tick: nothing is committed between them.
  for (const event of page) pass(event);
  live = true;
}

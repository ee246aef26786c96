/**
 * Events into the queue. The event log is the source of truth and the queue follows it with a cursor:
 * one transaction reads the events after the cursor that some notifier wants, inserts a delivery per
 * (notifier, event) and moves the cursor past them. So the deploy machinery never waits on notifications
 * (it only appends events; this runs after their commit, off its call stack), and a daemon that dies
 * between an event's commit and this pass takes the event in at its next start: nothing committed is
 * lost, and nothing is queued twice (the cursor moves with the inserts, and (notifier, event) is unique).
 */
import { newId } from '../lib/ids.ts';
import type { Store } from '../store/store.ts';
import type { NotifierRecord } from '../store/notifiers.ts';
import { wantedTypes } from './events.ts';
import { notificationOf } from './payload.ts';

const BATCH = 500;
/** Pending deliveries one notifier may hold; past it a new one is recorded as failed at once (a receiver down for a day). */
export const MAX_PENDING = 10_000;

type IntakeStore = Pick<Store, 'transaction' | 'notifiers' | 'notifyDeliveries' | 'deployments'>;

/** Takes in every event committed since the last pass; returns the notifiers that got something new. */
export function takeIn(store: IntakeStore, now: number): Set<string> {
  const touched = new Set<string>();
  for (let more = true; more; ) {
    more = store.transaction(() => {
      const q = store.notifyDeliveries;
      const notifiers = store.notifiers.all();
      const last = q.lastEventSeq();
      if (notifiers.length === 0) {
        q.setCursor(last);
        return false;
      }
      // The first pass starts at the oldest notifier's start: never at event 0 of a long history.
      const cursor = q.cursor() ?? Math.min(...notifiers.map((n) => n.fromSeq));
      const types = [...new Set(notifiers.flatMap((n) => wantedTypes(n.events)))];
      const events = q.eventsAfter(cursor, types, BATCH);
      const pending = new Map<string, number>();
      for (const event of events) {
        const kind = event.deploymentId ? (store.deployments.get(event.deploymentId)?.kind ?? null) : null;
        for (const notifier of notifiers.filter((n) => wants(n, event.type, event.seq))) {
          const count = pending.get(notifier.name) ?? q.pendingCount(notifier.name);
          const id = newId('dlv', now);
          const payload = JSON.stringify(notificationOf(id, event, kind));
          const full = count >= MAX_PENDING;
          const base = { id, notifier: notifier.name, eventSeq: event.seq, type: event.type, app: event.app, payload };
          const added = q.enqueue(full ? { ...base, state: 'failed', lastError: `not queued: ${MAX_PENDING} deliveries already wait for this receiver` } : base, now);
          if (added && !full) {
            pending.set(notifier.name, count + 1);
            touched.add(notifier.name);
          }
        }
      }
      const full = events.length === BATCH;
      q.setCursor(full ? events.at(-1)!.seq : last);
      return full;
    });
  }
  return touched;
}

function wants(notifier: NotifierRecord, type: string, seq: number): boolean {
  return seq > notifier.fromSeq && wantedTypes(notifier.events).includes(type);
}

/**
 * The notification controller: takes committed events into the queue (./intake.ts) and works each
 * notifier's queue off, strictly in order: the head is posted, retried with back-off (./retry-policy.ts)
 * while it fails, and only once it is delivered or given up does the next one go. One worker per notifier
 * with something pending, so a receiver that is down holds back only its own queue.
 *
 * It never sits on a deploy's path: the store tells it of each event after the commit, it notes that
 * and returns; the intake runs on a later turn of the event loop, and each post is bounded (timeout,
 * answer cap). The queue and the cursor are in the store, so `start()` after a restart resumes what was
 * pending, each delivery waiting out the back-off it had.
 *
 * Later issues post through the same path: append an event (deploy/emit.ts `reportTo`) whose type a
 * notifier wants (./events.ts); that is the whole port. No URL or secret is ever in a log line or event.
 */
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { EventRecord } from '../model/records.ts';
import type { Sealer } from '../secrets/sealer.ts';
import type { NotifierRecord } from '../store/notifiers.ts';
import type { DeliveryRecord } from '../store/notify-deliveries.ts';
import type { Store } from '../store/store.ts';
import { wantedTypes } from './events.ts';
import { takeIn } from './intake.ts';
import type { Notification } from './payload.ts';
import { postHttp, type AttemptResult, type Post } from './post.ts';
import { afterFailure, DEFAULT_RETRY, KEEP_HISTORY, type RetryPolicy } from './retry-policy.ts';
import { sendTo } from './send.ts';

export interface NotifyControllerOptions {
  store: Pick<Store, 'transaction' | 'notifiers' | 'notifyDeliveries' | 'deployments' | 'events'>;
  sealer: Sealer;
  clock: Clock;
  log: Logger;
  post?: Post;
  retry?: RetryPolicy;
  /** One attempt, connect to last byte. */
  timeoutMs?: number;
  /** Finished deliveries kept per notifier. */
  keepHistory?: number;
  /** [0, 1): the back-off's jitter. */
  random?: () => number;
}

/** What the API needs of the controller: a nudge after a notifier was added or removed. */
export interface NotifyControllerPort {
  wake(): void;
}

export class NotifyController implements NotifyControllerPort {
  readonly #o: NotifyControllerOptions;
  readonly #log: Logger;
  readonly #workers = new Map<string, { stop: AbortController; done: Promise<void> }>();
  #stopping = new AbortController();
  #unsubscribe: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #intakeDue = false;
  #intake: Promise<void> = Promise.resolve();
  #wanted = new Set<string>();

  constructor(options: NotifyControllerOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: 'notify' });
  }

  /**
   * Subscribes to events, takes in what came while it was down, resumes every pending queue. A pass every
   * `everyMs` as well, so a queue whose worker stopped on an error (the store busy, a key that no longer
   * opens a URL) resumes without waiting for the next event.
   */
  start(everyMs = 30_000): void {
    this.#stopping = new AbortController();
    this.#unsubscribe = this.#o.store.events.subscribe((event) => this.#heard(event));
    this.#timer = setInterval(() => this.#scheduleIntake(), everyMs);
    this.#timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#stopping.abort(new Error('the berth server is stopping'));
    await this.#intake;
    await Promise.allSettled([...this.#workers.values()].map((w) => w.done));
  }

  /** A notifier was added or removed, or the controller started: read the notifiers again and run an intake pass. */
  wake(): void {
    if (this.#stopping.signal.aborted) return;
    this.#wanted = new Set(this.#o.store.notifiers.all().flatMap((n) => wantedTypes(n.events)));
    for (const [name, worker] of this.#workers) if (!this.#o.store.notifiers.get(name)) worker.stop.abort(new Error('notifier removed'));
    this.#scheduleIntake();
  }

  /** Resolves once every event heard so far is queued (tests; a clean stop). */
  settled(): Promise<void> {
    return this.#intake;
  }

  /** Called by the store right after an event's commit: only a set lookup here, the work comes later. */
  #heard(event: EventRecord): void {
    if (this.#wanted.has(event.type)) this.#scheduleIntake();
  }

  #scheduleIntake(): void {
    if (this.#intakeDue || this.#stopping.signal.aborted) return;
    this.#intakeDue = true;
    this.#intake = this.#intake.then(
      () =>
        new Promise<void>((resolve) =>
          setImmediate(() => {
            this.#intakeDue = false;
            try {
              takeIn(this.#o.store, this.#o.clock.now());
              for (const name of this.#o.store.notifyDeliveries.notifiersWithPending()) this.#ensureWorker(name);
            } catch (error) {
              this.#log.error('notification intake failed; the events stay in the log and are taken in at the next pass', { error: error as Error });
            }
            resolve();
          }),
        ),
    );
  }

  #ensureWorker(name: string): void {
    if (this.#workers.has(name) || this.#stopping.signal.aborted) return;
    const stop = new AbortController();
    let failed = false;
    const done = this.#work(name, AbortSignal.any([stop.signal, this.#stopping.signal]))
      .catch((error) => {
        if (stop.signal.aborted || this.#stopping.signal.aborted) return;
        failed = true;
        this.#log.error('notifier queue stopped on an error; the next pass resumes it', { notifier: name, error: error as Error });
      })
      .finally(() => {
        this.#workers.delete(name);
        // Something may have been queued between the last look and the delete (never straight after an error: no spin).
        if (!failed && !this.#stopping.signal.aborted && this.#o.store.notifyDeliveries.head(name)) this.#ensureWorker(name);
      });
    this.#workers.set(name, { stop, done });
  }

  /** The notifier's queue, head first, until it is empty. */
  async #work(name: string, signal: AbortSignal): Promise<void> {
    const { store, clock } = this.#o;
    for (;;) {
      if (signal.aborted) return;
      const notifier = store.notifiers.get(name);
      const head = notifier && store.notifyDeliveries.head(name);
      if (!notifier || !head) return;
      const wait = head.nextAttemptAt - clock.now();
      if (wait > 0) await clock.sleep(wait, signal);
      if (signal.aborted) return;
      const result = await this.#attempt(notifier, head, signal);
      if (signal.aborted && !result.ok) return; // cut by the stop: the attempt does not count
      this.#record(notifier, head, result);
    }
  }

  #attempt(notifier: NotifierRecord, delivery: DeliveryRecord, signal: AbortSignal): Promise<AttemptResult> {
    const notification = JSON.parse(delivery.payload) as Notification;
    return sendTo(notifier, notification, {
      sealer: this.#o.sealer,
      post: this.#o.post ?? postHttp,
      now: this.#o.clock.now(),
      timeoutMs: this.#o.timeoutMs ?? 10_000,
      signal,
    });
  }

  #record(notifier: NotifierRecord, delivery: DeliveryRecord, result: AttemptResult): void {
    const { store, clock } = this.#o;
    const now = clock.now();
    const attempts = delivery.attempts + 1;
    const fields = { notifier: notifier.name, delivery: delivery.id, event: delivery.type, attempt: attempts, status: result.status, ms: result.ms };
    store.transaction(() => {
      if (result.ok) {
        store.notifyDeliveries.record(delivery.id, { state: 'delivered', status: result.status, error: null }, now);
        this.#log.info('notification delivered', fields);
      } else {
        const verdict = afterFailure({ attempts, createdAt: delivery.createdAt, now, random: (this.#o.random ?? Math.random)() }, this.#o.retry ?? DEFAULT_RETRY);
        if ('giveUp' in verdict) {
          store.notifyDeliveries.record(delivery.id, { state: 'failed', status: result.status, error: `${result.error}; ${verdict.giveUp}` }, now);
          this.#log.warn('notification failed for good; the next one goes', { ...fields, error: result.error });
        } else {
          store.notifyDeliveries.record(delivery.id, { state: 'pending', status: result.status, error: result.error, nextAttemptAt: verdict.retryAt }, now);
          this.#log.info('notification not delivered; retrying', { ...fields, error: result.error, retryInMs: verdict.retryAt - now });
        }
      }
      if (result.ok || store.notifyDeliveries.get(delivery.id)?.state === 'failed') store.notifyDeliveries.trim(notifier.name, this.#o.keepHistory ?? KEEP_HISTORY);
    });
  }
}

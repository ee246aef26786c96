/**
 * `berth notify`: notifiers and their deliveries as the API shows them. A notifier's URL shows as its
 * scheme and host only (`https://hooks.slack.com/…`) and its signing secret never, except once in the
 * answer that added it when berth generated it.
 */
import * as w from './wire-schema.ts';

export const NotifierKind = w.enumOf(['slack', 'webhook']);

export const Notifier = w.named(
  'Notifier',
  w.object({
    name: w.string(),
    kind: w.described('slack: a Slack-compatible incoming webhook (`{ text }`); webhook: a JSON body signed with HMAC-SHA256', NotifierKind),
    target: w.described('the URL\'s scheme and host only: `https://hooks.slack.com/…` (the rest is sealed)', w.string()),
    events: w.described('the event types posted to it', w.array(w.string())),
    defaultEvents: w.described('true when `events` is berth\'s default set (no --events given)', w.boolean()),
    signed: w.described('whether its posts carry X-Berth-Signature', w.boolean()),
    createdAt: w.dateTime(),
  }),
);
export type Notifier = w.Infer<typeof Notifier>;

export const NotifierList = w.object({ notifiers: w.described('by name', w.array(Notifier)) });
export type NotifierList = w.Infer<typeof NotifierList>;

export const NotifierAdded = w.object({
  notifier: Notifier,
  secret: w.described(
    'the signing secret berth generated for a webhook, shown this once (keep it where the receiver verifies signatures); null for Slack or when --secret was given',
    w.nullable(w.string()),
  ),
});
export type NotifierAdded = w.Infer<typeof NotifierAdded>;

export const NotifierRemoved = w.object({ removed: w.described('the notifier deleted, with its queue and history', w.string()) });
export type NotifierRemoved = w.Infer<typeof NotifierRemoved>;

export const NotifierTested = w.object({
  delivery: w.described('the test delivery\'s id (X-Berth-Delivery), kept in `berth notify log`', w.string()),
  ok: w.described('the receiver answered 2xx', w.boolean()),
  status: w.described('the receiver\'s HTTP status; null when it did not answer', w.nullable(w.integer())),
  answer: w.described('the start of the receiver\'s answer (at most 300 characters)', w.string()),
  error: w.described('why it failed; null when it did not', w.nullable(w.string())),
  ms: w.described('how long the post took', w.integer()),
});
export type NotifierTested = w.Infer<typeof NotifierTested>;

export const Delivery = w.named(
  'Delivery',
  w.object({
    id: w.described('sent as X-Berth-Delivery and as the body\'s `id`; the same on every attempt', w.string()),
    notifier: w.string(),
    event: w.described('the event type (`notify.test` for `berth notify test`)', w.string()),
    eventSeq: w.described('the event\'s seq in `berth events`; null for a test', w.nullable(w.integer())),
    app: w.nullable(w.string()),
    state: w.described('pending: queued or being retried; delivered: the receiver answered 2xx; failed: given up (attempts or age)', w.enumOf(['pending', 'delivered', 'failed'])),
    attempts: w.integer(),
    lastStatus: w.described('the receiver\'s HTTP status at the last attempt; null when it did not answer', w.nullable(w.integer())),
    lastError: w.described('why the last failed attempt failed (kept after a later success); null when none failed', w.nullable(w.string())),
    nextAttemptAt: w.described('when a pending delivery is tried next; null once finished', w.nullable(w.dateTime())),
    createdAt: w.dateTime(),
    finishedAt: w.nullable(w.dateTime()),
  }),
);
export type Delivery = w.Infer<typeof Delivery>;

export const DeliveryList = w.object({ deliveries: w.described('newest first', w.array(Delivery)) });
export type DeliveryList = w.Infer<typeof DeliveryList>;

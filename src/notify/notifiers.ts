/**
 * `berth notify add|list|remove|test|log` (`/v1/notifiers`, `/v1/deliveries`): the use cases every surface
 * calls, plain input in, records out, catalogue errors. The URL and the signing secret are sealed before
 * they are stored and never come out again; the secret is returned once, by `addNotifier`, when berth
 * generated it (a secret the user gave is theirs already).
 */
import { fail } from '../errors/catalogue.ts';
import type { Clock } from '../lib/clock.ts';
import { newId } from '../lib/ids.ts';
import type { Logger } from '../lib/log.ts';
import { isValidAppName } from '../manifest/app-name.ts';
import type { Sealer } from '../secrets/sealer.ts';
import type { NotifierInfo, NotifierKind } from '../store/notifiers.ts';
import type { DeliveryRecord } from '../store/notify-deliveries.ts';
import type { Store } from '../store/store.ts';
import type { NotifyControllerPort } from './controller.ts';
import { checkEventTypes } from './events.ts';
import { testNotification } from './payload.ts';
import { postHttp, type AttemptResult, type Post } from './post.ts';
import { KEEP_HISTORY } from './retry-policy.ts';
import { sendTo } from './send.ts';
import { newSecret } from './signature.ts';
import { checkTargetUrl, display } from './target.ts';

export interface NotifyContext {
  store: Pick<Store, 'transaction' | 'notifiers' | 'notifyDeliveries'>;
  sealer: Sealer;
  clock: Clock;
  log: Logger;
  /** Absent on a daemon without the controller: the notifier is stored and a controller started later reads it. */
  controller?: NotifyControllerPort;
  post?: Post;
}

export interface AddInput {
  name: string;
  kind: NotifierKind;
  url: string;
  events?: string[];
  secret?: string;
}

export const SECRET_MIN = 16;
export const SECRET_MAX = 256;

/** Checks everything, then stores the notifier sealed. The secret is in the result only when berth made it. */
export function addNotifier(ctx: NotifyContext, input: AddInput): { notifier: NotifierInfo; secret: string | null } {
  if (!isValidAppName(input.name)) throw fail('NOTIFIER_NAME_INVALID', { name: input.name });
  const url = checkTargetUrl(input.url, 'url');
  const events = checkEventTypes(input.events);
  if (input.kind === 'slack' && input.secret !== undefined) throw fail('NOTIFIER_SECRET_INVALID', { reason: 'Slack messages are not signed (the URL is their secret): --secret is for --webhook only' });
  if (input.secret !== undefined) checkSecret(input.secret);
  const generated = input.kind === 'webhook' && input.secret === undefined ? newSecret() : null;
  const secret = input.secret ?? generated;
  const { store, sealer, clock } = ctx;
  const added = store.notifiers.add({
    name: input.name,
    kind: input.kind,
    urlSealed: sealer.seal(url.href),
    target: display(url),
    secretSealed: secret === null ? null : sealer.seal(secret),
    events,
    createdAt: clock.now(),
  });
  if (!added) throw fail('NOTIFIER_EXISTS', { name: input.name });
  ctx.log.info('notifier added', { notifier: input.name, kind: input.kind, target: display(url), events: events ?? 'default' });
  ctx.controller?.wake();
  return { notifier: infoOf(ctx, input.name), secret: generated };
}

export function listNotifiers(ctx: Pick<NotifyContext, 'store'>): NotifierInfo[] {
  return ctx.store.notifiers.list();
}

/** Removes the notifier with its queue and history. NOTIFIER_NOT_FOUND when there is none. */
export function removeNotifier(ctx: NotifyContext, name: string): string {
  if (!ctx.store.notifiers.remove(name)) throw fail('NOTIFIER_NOT_FOUND', { name });
  ctx.log.info('notifier removed', { notifier: name });
  ctx.controller?.wake();
  return name;
}

/**
 * Posts a test message now, outside the queue (a retrying head does not hold it back, and it is not
 * retried), and keeps it in the history. The receiver's answer is the result.
 */
export async function testNotifier(ctx: NotifyContext, name: string, options: { timeoutMs?: number } = {}): Promise<{ delivery: string; result: AttemptResult }> {
  const notifier = ctx.store.notifiers.get(name);
  if (!notifier) throw fail('NOTIFIER_NOT_FOUND', { name });
  const now = ctx.clock.now();
  const id = newId('dlv', now);
  const notification = testNotification(id, name, now);
  const result = await sendTo(notifier, notification, { sealer: ctx.sealer, post: ctx.post ?? postHttp, now, timeoutMs: options.timeoutMs ?? 10_000 });
  if (!ctx.store.notifiers.get(name)) return { delivery: id, result }; // removed meanwhile: nothing to keep it under
  ctx.store.notifyDeliveries.recordTest(
    { id, notifier: name, eventSeq: null, type: notification.type, app: null, payload: JSON.stringify(notification), delivered: result.ok, status: result.status, error: result.error },
    ctx.clock.now(),
  );
  ctx.store.notifyDeliveries.trim(name, KEEP_HISTORY);
  ctx.log.info('notifier tested', { notifier: name, delivery: id, ok: result.ok, status: result.status, ms: result.ms });
  return { delivery: id, result };
}

/** The delivery history, newest first: one notifier's (NOTIFIER_NOT_FOUND if unknown) or everyone's. */
export function deliveryLog(ctx: Pick<NotifyContext, 'store'>, options: { notifier?: string; limit: number }): DeliveryRecord[] {
  if (options.notifier !== undefined && !ctx.store.notifiers.get(options.notifier)) throw fail('NOTIFIER_NOT_FOUND', { name: options.notifier });
  return ctx.store.notifyDeliveries.history(options);
}

function checkSecret(secret: string): void {
  if (secret.length < SECRET_MIN) throw fail('NOTIFIER_SECRET_INVALID', { reason: `it is ${secret.length} characters long, and a signing secret needs at least ${SECRET_MIN}` });
  if (secret.length > SECRET_MAX) throw fail('NOTIFIER_SECRET_INVALID', { reason: `it is longer than ${SECRET_MAX} characters` });
  if (!/^[\x21-\x7e]+$/.test(secret)) throw fail('NOTIFIER_SECRET_INVALID', { reason: 'it holds spaces, control or non-ASCII characters' });
}

function infoOf(ctx: Pick<NotifyContext, 'store'>, name: string): NotifierInfo {
  const { urlSealed: _u, secretSealed: _s, ...info } = ctx.store.notifiers.get(name)!;
  return info;
}

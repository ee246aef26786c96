import { addNotifier, deliveryLog, listNotifiers, removeNotifier, testNotifier, type NotifyContext } from '../../notify/notifiers.ts';
import { DEFAULT_EVENTS } from '../../notify/events.ts';
import type { Delivery, Notifier } from '../../model/wire.ts';
import type { NotifierInfo } from '../../store/notifiers.ts';
import type { DeliveryRecord } from '../../store/notify-deliveries.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';

/**
 * Notifiers (`berth notify add|list|remove|test|log`). A URL and a secret come in with POST and never go
 * out: the list shows the URL's scheme and host; a generated secret is answered once, by the add.
 */
export function notifyRoutes(router: Router, deps: ApiDeps): void {
  const { store, sealer, clock, log } = deps.ctx;
  const ctx: NotifyContext = { store, sealer, clock, log, ...(deps.notifications ? { controller: deps.notifications } : {}) };

  router.on(operations.listNotifiers, ({ res }) => {
    answer(res, 'listNotifiers', 200, { notifiers: listNotifiers(ctx).map(notifierView) });
  });

  router.on(operations.addNotifier, ({ res, body }) => {
    const { notifier, secret } = addNotifier(ctx, {
      name: body.name,
      kind: body.kind as 'slack' | 'webhook',
      url: body.url,
      ...(body.events !== undefined ? { events: body.events } : {}),
      ...(body.secret !== undefined ? { secret: body.secret } : {}),
    });
    answer(res, 'addNotifier', 201, { notifier: notifierView(notifier), secret });
  });

  router.on(operations.removeNotifier, ({ res, params }) => {
    answer(res, 'removeNotifier', 200, { removed: removeNotifier(ctx, params.name) });
  });

  router.on(operations.testNotifier, async ({ res, params }) => {
    const { delivery, result } = await testNotifier(ctx, params.name);
    answer(res, 'testNotifier', 200, { delivery, ok: result.ok, status: result.status, answer: result.answer, error: result.error, ms: result.ms });
  });

  router.on(operations.listDeliveries, ({ res, query }) => {
    const deliveries = deliveryLog(ctx, { limit: query.limit ?? 50, ...(query.notifier !== undefined ? { notifier: query.notifier } : {}) });
    answer(res, 'listDeliveries', 200, { deliveries: deliveries.map(deliveryView) });
  });
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function notifierView(n: NotifierInfo): Notifier {
  return { name: n.name, kind: n.kind, target: n.target, events: [...(n.events ?? DEFAULT_EVENTS)], defaultEvents: n.events === null, signed: n.kind === 'webhook', createdAt: iso(n.createdAt)! };
}

function deliveryView(d: DeliveryRecord): Delivery {
  return {
    id: d.id,
    notifier: d.notifier,
    event: d.type,
    eventSeq: d.eventSeq,
    app: d.app,
    state: d.state,
    attempts: d.attempts,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    nextAttemptAt: d.state === 'pending' ? iso(d.nextAttemptAt) : null,
    createdAt: iso(d.createdAt)!,
    finishedAt: iso(d.finishedAt),
  };
}

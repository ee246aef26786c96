/**
 * What a notifier is told of an event (pure). The notification is fixed when the delivery is queued and
 * sent the same on every attempt:
 *
 *   { id, type, app, message, data, at, deployment }
 *
 * `id` is the delivery id (also X-Berth-Delivery: a receiver drops a repeat by it), `type`, `message` and
 * `data` the event's as berth recorded it (already masked with the app's secrets), `at` its ISO time,
 * `deployment` `{ id, kind }` when the event belongs to a deployment (a rollback is kind `rollback`).
 * A failed deploy's data is its error's code, message and hint, without the output tail.
 * Generic webhooks get this as their JSON body; Slack gets `{ text }`, one readable line.
 */
import type { EventRecord } from '../model/records.ts';

export interface Notification {
  id: string;
  type: string;
  app: string | null;
  message: string;
  data: Record<string, unknown> | null;
  at: string;
  deployment: { id: string; kind: string } | null;
}

const MESSAGE_MAX = 2000;

export function notificationOf(id: string, event: EventRecord, deploymentKind: string | null): Notification {
  let data = event.data;
  if (event.type === 'deploy.failed' && data) {
    const { code, message, hint } = data as { code?: unknown; message?: unknown; hint?: unknown };
    data = { code, message, ...(hint !== undefined ? { hint } : {}) };
  }
  return {
    id,
    type: event.type,
    app: event.app,
    message: clip(event.message, MESSAGE_MAX),
    data,
    at: new Date(event.at).toISOString(),
    deployment: event.deploymentId ? { id: event.deploymentId, kind: deploymentKind ?? 'deploy' } : null,
  };
}

/** `berth notify test`: a message of its own type, through the same path. */
export function testNotification(id: string, notifier: string, now: number): Notification {
  return { id, type: 'notify.test', app: null, message: `test message from berth to notifier "${notifier}"`, data: null, at: new Date(now).toISOString(), deployment: null };
}

/** A deploy of kind `kind` in words: `deploy`, `rollback`, `env change`, `scale`, `auto-update`. */
const deployWord = (kind: string | undefined): string =>
  ({ rollback: 'rollback', env: 'env change', scale: 'scale', update: 'auto-update' } as Record<string, string>)[kind ?? ''] ?? 'deploy';

/** One line for a chat: what happened to which app, readable without the JSON. */
export function headline(n: Notification): { icon: string; text: string } {
  const data = (n.data ?? {}) as Record<string, unknown>;
  const what = deployWord(n.deployment?.kind ?? (data.kind as string | undefined));
  switch (n.type) {
    case 'deploy.queued':
      return { icon: what === 'rollback' ? ':leftwards_arrow_with_hook:' : ':rocket:', text: `${what} started: ${n.message}` };
    case 'deploy.succeeded':
      return { icon: ':white_check_mark:', text: `${what} succeeded` };
    case 'deploy.failed':
      return { icon: ':x:', text: `${what} failed: ${typeof data.code === 'string' ? `${data.code}: ` : ''}${typeof data.message === 'string' ? data.message : n.message}` };
    case 'instance.unhealthy':
      return { icon: ':warning:', text: n.message };
    case 'instance.healthy':
      return { icon: ':large_green_circle:', text: n.message };
    case 'instance.crashloop':
      return { icon: ':rotating_light:', text: n.message };
    case 'app.degraded':
      return { icon: ':warning:', text: n.message };
    case 'app.recovered':
      return { icon: ':large_green_circle:', text: n.message };
    case 'notify.test':
      return { icon: ':wave:', text: n.message };
    default:
      return { icon: ':information_source:', text: `${n.type}: ${n.message}` };
  }
}

/** Slack's incoming webhook body: `{ text }` in its mrkdwn, &, < and > escaped as Slack asks. */
export function slackBody(n: Notification): string {
  const { icon, text } = headline(n);
  const app = n.app ? `*${escapeSlack(n.app)}* ` : '';
  return JSON.stringify({ text: `${icon} ${app}${escapeSlack(clip(text, 3000))}` });
}

export const webhookBody = (n: Notification): string => JSON.stringify(n);

const escapeSlack = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * A notification as its notifier wants it: Slack's `{ text }` to the URL, or the JSON body signed
 * (./signature.ts) with X-Berth-Event and X-Berth-Delivery. The URL and secret are opened here, for the
 * post only, and go nowhere else.
 */
import type { Sealer } from '../secrets/sealer.ts';
import type { NotifierRecord } from '../store/notifiers.ts';
import { slackBody, webhookBody, type Notification } from './payload.ts';
import type { AttemptResult, Post } from './post.ts';
import { signatureHeaders } from './signature.ts';

export interface SendOptions {
  sealer: Sealer;
  post: Post;
  now: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Never throws: a URL or secret that no longer opens (the key file replaced) is a failed attempt like any other. */
export async function sendTo(notifier: Pick<NotifierRecord, 'kind' | 'urlSealed' | 'secretSealed'>, n: Notification, options: SendOptions): Promise<AttemptResult> {
  try {
    return await post(notifier, n, options);
  } catch {
    return { ok: false, status: null, answer: '', error: 'the notifier\'s URL or secret cannot be opened with this server\'s key (DATA/secret.key changed?): add the notifier again', ms: 0 };
  }
}

function post(notifier: Pick<NotifierRecord, 'kind' | 'urlSealed' | 'secretSealed'>, n: Notification, options: SendOptions): Promise<AttemptResult> {
  const url = new URL(options.sealer.open(notifier.urlSealed));
  const post = { timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) };
  if (notifier.kind === 'slack') return options.post(url, {}, slackBody(n), post);
  const body = webhookBody(n);
  const headers = {
    'x-berth-event': n.type,
    'x-berth-delivery': n.id,
    ...(notifier.secretSealed ? signatureHeaders(options.sealer.open(notifier.secretSealed), body, options.now) : {}),
  };
  return options.post(url, headers, body, post);
}

/**
 * Generic webhooks are signed as Stripe and GitHub sign theirs: HMAC-SHA256, keyed with the notifier's
 * secret, over `${timestamp}.${body}`, where the timestamp is Unix seconds sent as `X-Berth-Timestamp`
 * and the signature is `X-Berth-Signature: v1=<hex>`. Each attempt is signed afresh with its own time.
 *
 * A receiver verifies (this file's `verifyWebhook` is the reference; any language does the same):
 *   1. read the raw body bytes, before any JSON parsing;
 *   2. compute HMAC-SHA256(secret, `${X-Berth-Timestamp}.${body}`) as lowercase hex;
 *   3. compare it with every `v1=` value of X-Berth-Signature in constant time;
 *   4. refuse a timestamp more than 5 minutes from its own clock (a replayed request is old);
 *   5. drop a repeated X-Berth-Delivery id (a retry after an answer that never reached berth).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_VERSION = 'v1';
/** What a receiver should tolerate between the timestamp and its clock. */
export const DEFAULT_TOLERANCE_S = 300;

/** A new signing secret: 32 random bytes, `whsec_` + base64url (shown once at `berth notify add`). */
export const newSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

export function sign(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The headers of one signed attempt. */
export function signatureHeaders(secret: string, body: string, nowMs: number): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return { 'x-berth-timestamp': String(timestamp), 'x-berth-signature': `${SIGNATURE_VERSION}=${sign(secret, timestamp, body)}` };
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/** What a receiver does with a request: signature first, then the timestamp's age. */
export function verifyWebhook(input: { secret: string; body: string; timestamp: string | undefined; signature: string | undefined; nowMs: number; toleranceS?: number }): Verdict {
  const { timestamp, signature } = input;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'no valid X-Berth-Timestamp' };
  if (!signature) return { ok: false, reason: 'no X-Berth-Signature' };
  const expected = Buffer.from(sign(input.secret, Number(timestamp), input.body), 'hex');
  const matches = signature
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith(`${SIGNATURE_VERSION}=`))
    .some((part) => {
      const given = Buffer.from(part.slice(SIGNATURE_VERSION.length + 1), 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  if (!matches) return { ok: false, reason: 'the signature does not match' };
  const age = Math.abs(input.nowMs / 1000 - Number(timestamp));
  if (age > (input.toleranceS ?? DEFAULT_TOLERANCE_S)) return { ok: false, reason: `the timestamp is ${Math.round(age)} s from now: a replay, or a clock off` };
  return { ok: true };
}

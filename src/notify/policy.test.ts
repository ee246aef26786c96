/** The pure parts of notifications: back-off, signatures, URL checks and scrubbing, event lists, messages. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/catalogue.ts';
import { checkEventTypes, DEFAULT_EVENTS } from './events.ts';
import { headline, notificationOf, slackBody, testNotification } from './payload.ts';
import { afterFailure, DEFAULT_RETRY } from './retry-policy.ts';
import { newSecret, sign, signatureHeaders, verifyWebhook } from './signature.ts';
import { checkTargetUrl, display, scrub } from './target.ts';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (isBerthError(error)) return error.code;
    throw error;
  }
  return 'no error';
};

test('back-off doubles from 1 s with jitter, capped at 10 min; gives up at 20 attempts or 24 h', () => {
  const at = (attempts: number, random: number, createdAt = 0, now = 0) => afterFailure({ attempts, createdAt, now, random });
  assert.deepEqual(at(1, 0.999999), { retryAt: 1000 });
  assert.deepEqual(at(1, 0), { retryAt: 500 });
  assert.deepEqual(at(2, 0.5), { retryAt: 1500 });
  assert.deepEqual(at(5, 0), { retryAt: 8000 });
  assert.deepEqual(at(15, 0.999999), { retryAt: 600_000 }, 'capped at 10 min');
  assert.deepEqual(at(19, 0), { retryAt: 300_000 });
  assert.match((at(20, 0) as { giveUp: string }).giveUp, /after 20 attempts/);
  assert.ok('giveUp' in at(3, 0.5, 0, DEFAULT_RETRY.maxAgeMs - 100), 'the next try would be past 24 h');
  // Bounded overall: the sum of every wait stays well under the age limit.
  let total = 0;
  for (let i = 1; i < DEFAULT_RETRY.maxAttempts; i++) total += (at(i, 0.999999) as { retryAt: number }).retryAt;
  assert.ok(total < 3 * 3600_000, `${total} ms`);
});

test('signatures verify, and fail for another body, secret, timestamp or an old request', () => {
  const secret = newSecret();
  assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(newSecret(), secret);
  const body = '{"id":"dlv_1","type":"deploy.failed"}';
  const now = 1_800_000_000_000;
  const headers = signatureHeaders(secret, body, now);
  assert.equal(headers['x-berth-timestamp'], '1800000000');
  assert.equal(headers['x-berth-signature'], `v1=${sign(secret, 1_800_000_000, body)}`);
  const check = (over: Partial<Parameters<typeof verifyWebhook>[0]>) =>
    verifyWebhook({ secret, body, timestamp: headers['x-berth-timestamp'], signature: headers['x-berth-signature'], nowMs: now, ...over });
  assert.deepEqual(check({}), { ok: true });
  assert.deepEqual(check({ nowMs: now + 299_000 }), { ok: true });
  assert.equal(check({ body: body.replace('failed', 'queued') }).ok, false);
  assert.equal(check({ secret: newSecret() }).ok, false);
  assert.equal(check({ timestamp: '1800000001' }).ok, false, 'the timestamp is signed too');
  assert.match((check({ nowMs: now + 301_000 }) as { reason: string }).reason, /replay/);
  assert.equal(check({ signature: undefined }).ok, false);
  assert.equal(check({ timestamp: 'soon' }).ok, false);
  assert.equal(check({ signature: 'v1=zz' }).ok, false);
  assert.deepEqual(check({ signature: `v0=abc, ${headers['x-berth-signature']}` }), { ok: true }, 'several signatures: one must match');
});

test('notifier URLs: http(s) with a host, bounded; shown as scheme and host; scrubbed from any text', () => {
  const url = checkTargetUrl('https://hooks.slack.com/services/T0/B0/SeCrEt?x=1#frag', 'url');
  assert.equal(url.href, 'https://hooks.slack.com/services/T0/B0/SeCrEt?x=1');
  assert.equal(display(url), 'https://hooks.slack.com/…');
  assert.equal(display(checkTargetUrl('http://user:pw@127.0.0.1:8080/h', 'url')), 'http://127.0.0.1:8080/…');
  for (const bad of ['ftp://x/y', 'javascript:alert(1)', 'file:///etc/passwd', 'hooks.slack.com/x', '', 'http://', 'https://a b/', 'http://x/\n', `https://x/${'a'.repeat(2048)}`]) {
    assert.equal(code(() => checkTargetUrl(bad, 'url')), 'NOTIFIER_URL_INVALID', bad.slice(0, 40));
  }
  assert.equal(scrub('POST https://hooks.slack.com/services/T0/B0/SeCrEt?x=1 said: no route /services/T0/B0/SeCrEt', url), 'POST … said: no route …');
  const withPassword = checkTargetUrl('http://bot:hunter2hunter2@h.example/x', 'url');
  assert.equal(scrub('auth hunter2hunter2 failed', withPassword), 'auth … failed');
});

test('event lists: known types only, none of the chatty ones, bounded; default when not given', () => {
  assert.equal(checkEventTypes(undefined), null);
  assert.deepEqual(checkEventTypes(['deploy.failed', 'instance.crashloop', 'deploy.failed']), ['deploy.failed', 'instance.crashloop']);
  for (const bad of [[], ['nope'], ['build.log'], ['__proto__'], Array(65).fill('deploy.failed')]) assert.equal(code(() => checkEventTypes(bad)), 'NOTIFIER_EVENTS_INVALID', String(bad[0]));
  assert.deepEqual(checkEventTypes([...DEFAULT_EVENTS]), [...DEFAULT_EVENTS]);
});

test('notifications: the event as recorded, a rollback told by its deployment kind, a failure without its output tail', () => {
  const event = { seq: 7, at: 0, app: 'shop', deploymentId: 'dep_1', type: 'deploy.failed', message: 'deploy failed', data: { code: 'START_FAILED', message: 'exited', logTail: ['x'.repeat(10_000)] } };
  const n = notificationOf('dlv_1', event, 'rollback');
  assert.deepEqual(n, { id: 'dlv_1', type: 'deploy.failed', app: 'shop', message: 'deploy failed', data: { code: 'START_FAILED', message: 'exited' }, at: '1970-01-01T00:00:00.000Z', deployment: { id: 'dep_1', kind: 'rollback' } });
  assert.deepEqual(headline(n), { icon: ':x:', text: 'rollback failed: START_FAILED: exited' });
  const queued = notificationOf('dlv_2', { ...event, type: 'deploy.queued', message: 'rollback to v2', data: { kind: 'rollback' } }, 'rollback');
  assert.equal(JSON.parse(slackBody(queued)).text, ':leftwards_arrow_with_hook: *shop* rollback started: rollback to v2');
  const crash = notificationOf('dlv_3', { ...event, deploymentId: null, type: 'instance.crashloop', message: 'web.1 <crash> loop & gone', data: null }, null);
  assert.equal(crash.deployment, null);
  assert.equal(JSON.parse(slackBody(crash)).text, ':rotating_light: *shop* web.1 &lt;crash&gt; loop &amp; gone');
  assert.equal(JSON.parse(slackBody(testNotification('dlv_4', 'ops', 0))).text, ':wave: test message from berth to notifier "ops"');
});

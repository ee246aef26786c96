/**
 * The notification controller against real HTTP receivers on 127.0.0.1 that verify signatures and fail
 * on purpose, over a real SQLite store, on a manual clock for the back-off (no test waits for it).
 */
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../lib/clock.ts';
import { createLogger } from '../lib/log.ts';
import { createSealer } from '../secrets/sealer.ts';
import { Store } from '../store/store.ts';
import { NotifyController } from './controller.ts';
import { addNotifier, deliveryLog, listNotifiers, testNotifier } from './notifiers.ts';
import { Receiver, until } from './receiver.test-support.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('notification controller', () => {
  let store: Store;
  let clock: ManualClock;
  let receiver: Receiver;
  let logged: string[];
  let controllers: NotifyController[];
  const sealer = createSealer(randomBytes(32));
  const fastRetry = { firstDelayMs: 1000, maxDelayMs: 600_000, maxAttempts: 20, maxAgeMs: 86_400_000 };

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-notify-'));
    dirs.push(dir);
    store = new Store(join(dir, 'berth.db'));
    clock = new ManualClock(1_800_000_000_000);
    receiver = new Receiver();
    receiver.now = () => clock.now();
    await receiver.listen();
    logged = [];
    controllers = [];
  });
  afterEach(async () => {
    for (const c of controllers) await c.stop();
    await receiver.close();
    store.close();
  });

  const log = () => createLogger({ sink: { write: (line: string) => logged.push(line) }, level: 'debug' });
  const ctx = (controller?: NotifyController) => ({ store, sealer, clock, log: log(), ...(controller ? { controller } : {}) });
  const controller = (options: { timeoutMs?: number; retry?: typeof fastRetry } = {}) => {
    const c = new NotifyController({ store, sealer, clock, log: log(), random: () => 0.5, retry: options.retry ?? fastRetry, timeoutMs: options.timeoutMs ?? 2000 });
    controllers.push(c);
    return c;
  };
  const emit = (type: string, message: string, data: Record<string, unknown> | null = null, where: { app?: string; deploymentId?: string | null } = {}) =>
    store.events.append({ at: clock.now(), app: where.app ?? 'shop', deploymentId: where.deploymentId ?? null, type, message, data });
  const addWebhook = (name = 'hook', events?: string[]) => {
    const added = addNotifier(ctx(controllers[0]), { name, kind: 'webhook', url: receiver.url, ...(events ? { events } : {}) });
    receiver.secret = added.secret;
    return added;
  };
  const types = () => receiver.received.map((r) => r.json?.type);

  test('each wanted event reaches the webhook once, signed, in order; the rest are not posted', async () => {
    const c = controller();
    c.start();
    const { secret } = addWebhook();
    assert.match(secret!, /^whsec_[A-Za-z0-9_-]{43}$/);
    store.apps.ensure('shop', clock.now());
    store.deployments.insert({ id: 'dep_rb', app: 'shop', kind: 'rollback', releaseId: null, previousReleaseId: null }, clock.now());
    emit('deploy.queued', 'rollback to v2 queued', { kind: 'rollback' }, { deploymentId: 'dep_rb' });
    emit('build.log', 'npm ci');
    emit('deploy.failed', 'the new release never became healthy', { code: 'HEALTH_CHECK_FAILED', message: 'never healthy', hint: 'check it', logTail: ['a line'] }, { deploymentId: 'dep_rb' });
    emit('instance.crashloop', 'web.1 crash-looped', { instance: 'ins_1', exit: { code: 1, signal: null, at: 1 }, restarts: 5 });
    await until(() => receiver.received.length === 3, 5000, 'three deliveries');
    await until(() => store.notifyDeliveries.pendingCount('hook') === 0);
    assert.deepEqual(types(), ['deploy.queued', 'deploy.failed', 'instance.crashloop']);
    for (const r of receiver.received) {
      assert.equal(r.verified, 'ok');
      assert.equal(r.headers['x-berth-event'], r.json.type);
      assert.equal(r.headers['x-berth-delivery'], r.json.id);
      assert.match(String(r.headers['x-berth-signature']), /^v1=[0-9a-f]{64}$/);
      assert.deepEqual(Object.keys(r.json).sort(), ['app', 'at', 'data', 'deployment', 'id', 'message', 'type']);
    }
    assert.deepEqual(receiver.received[0].json.deployment, { id: 'dep_rb', kind: 'rollback' });
    assert.deepEqual(receiver.received[1].json.data, { code: 'HEALTH_CHECK_FAILED', message: 'never healthy', hint: 'check it' });
    // A body altered in transit fails the receiver's check: the check can fail.
    const tampered = receiver.received[0];
    const { verifyWebhook } = await import('./signature.ts');
    assert.equal(verifyWebhook({ secret: secret!, body: tampered.body.replace('rollback', 'r0llback'), timestamp: tampered.headers['x-berth-timestamp'] as string, signature: tampered.headers['x-berth-signature'] as string, nowMs: clock.now() }).ok, false);
    assert.deepEqual(deliveryLog(ctx(), { limit: 10 }).map((d) => [d.type, d.state, d.attempts]), [
      ['instance.crashloop', 'delivered', 1],
      ['deploy.failed', 'delivered', 1],
      ['deploy.queued', 'delivered', 1],
    ]);
  });

  test('events from before a notifier was added are never posted to it', async () => {
    emit('deploy.failed', 'old failure', { code: 'X', message: 'old' });
    const c = controller();
    c.start();
    addWebhook();
    emit('deploy.succeeded', 'shop is live');
    await until(() => receiver.received.length === 1);
    await c.settled();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(types(), ['deploy.succeeded']);
  });

  test('a receiver that is down (port closed), then back on the same port, gets everything once, in order', async () => {
    const c = controller();
    c.start();
    addWebhook();
    await receiver.close();
    for (let i = 1; i <= 5; i++) emit('deploy.failed', `failure ${i}`, { code: 'BUILD_FAILED', message: `failure ${i}` });
    await until(() => store.notifyDeliveries.head('hook')?.attempts === 1, 5000, 'a refused first attempt');
    const head = store.notifyDeliveries.head('hook')!;
    assert.match(head.lastError!, /ECONNREFUSED/);
    assert.equal(head.nextAttemptAt - clock.now(), 750, 'first retry after 1 s with jitter (0.5 -> 0.75 s)');
    // Down for a while: retries keep failing and back off, and the queue behind the head waits.
    await clock.advance(750);
    await until(() => store.notifyDeliveries.head('hook')?.attempts === 2, 5000, 'a second refused attempt');
    assert.equal(store.notifyDeliveries.head('hook')!.nextAttemptAt - clock.now(), 1500);
    assert.equal(store.notifyDeliveries.pendingCount('hook'), 5);
    await receiver.listen(receiver.port);
    await clock.advance(1500);
    await until(() => receiver.received.length === 5, 5000, 'five deliveries');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(receiver.received.map((r) => r.json.message), ['failure 1', 'failure 2', 'failure 3', 'failure 4', 'failure 5']);
    assert.ok(receiver.received.every((r) => r.verified === 'ok'));
    assert.equal(new Set(receiver.received.map((r) => r.json.id)).size, 5);
    assert.equal(store.notifyDeliveries.pendingCount('hook'), 0);
  });

  test('a receiver answering 500 holds its queue in order until it answers 200', async () => {
    let failing = true;
    receiver.behaviour = () => (failing ? 500 : 200);
    const c = controller();
    c.start();
    addWebhook();
    emit('instance.unhealthy', 'web.1 failed 3 checks', { instance: 'ins_1', detail: 'HTTP 502' });
    emit('instance.healthy', 'web.1 healthy again', { instance: 'ins_1' });
    await until(() => receiver.received.length === 1);
    await until(() => store.notifyDeliveries.head('hook')?.attempts === 1);
    assert.equal(store.notifyDeliveries.head('hook')!.lastStatus, 500);
    assert.match(store.notifyDeliveries.head('hook')!.lastError!, /^HTTP 500/);
    await clock.advance(750);
    await until(() => receiver.received.length === 2);
    await until(() => store.notifyDeliveries.head('hook')?.attempts === 2);
    assert.deepEqual(types(), ['instance.unhealthy', 'instance.unhealthy'], 'the second event waits behind the head');
    failing = false;
    await clock.advance(1500);
    await until(() => receiver.received.length === 4);
    assert.deepEqual(types(), ['instance.unhealthy', 'instance.unhealthy', 'instance.unhealthy', 'instance.healthy']);
    assert.equal(receiver.received[0].json.id, receiver.received[2].json.id, 'a retry is the same delivery');
  });

  test('a receiver that hangs is cut by the timeout and retried', async () => {
    receiver.behaviour = (_r, i) => (i === 0 ? 'hang' : 200);
    const c = controller({ timeoutMs: 300 });
    c.start();
    addWebhook();
    const started = Date.now();
    emit('deploy.succeeded', 'shop is live');
    await until(() => store.notifyDeliveries.head('hook')?.attempts === 1, 5000, 'the timed-out attempt');
    assert.ok(Date.now() - started < 3000);
    assert.match(store.notifyDeliveries.head('hook')!.lastError!, /no answer within 0.3 s/);
    await clock.advance(1000);
    await until(() => receiver.received.length === 2);
    await until(() => store.notifyDeliveries.pendingCount('hook') === 0);
    assert.deepEqual(deliveryLog(ctx(), { notifier: 'hook', limit: 5 }).map((d) => [d.state, d.attempts]), [['delivered', 2]]);
  });

  test('attempts are bounded: a delivery is given up, marked failed, and the next one goes', async () => {
    receiver.behaviour = (r) => (r.json.message === 'first' ? 503 : 200);
    const c = controller({ retry: { ...fastRetry, maxAttempts: 3 } });
    c.start();
    addWebhook();
    emit('deploy.succeeded', 'first');
    emit('deploy.succeeded', 'second');
    for (let i = 1; i <= 3; i++) {
      await until(() => receiver.received.length === i, 5000, `attempt ${i}`);
      await until(() => (store.notifyDeliveries.history({ notifier: 'hook', limit: 5 }).at(-1)?.attempts ?? 0) === i);
      await clock.advance(10_000);
    }
    await until(() => receiver.received.length === 4);
    await until(() => store.notifyDeliveries.pendingCount('hook') === 0);
    assert.deepEqual(types(), ['deploy.succeeded', 'deploy.succeeded', 'deploy.succeeded', 'deploy.succeeded']);
    assert.deepEqual(receiver.received.map((r) => r.json.message), ['first', 'first', 'first', 'second']);
    const [second, first] = deliveryLog(ctx(), { notifier: 'hook', limit: 5 });
    assert.deepEqual([first.state, first.attempts, first.lastStatus], ['failed', 3, 503]);
    assert.match(first.lastError!, /gave up after 3 attempts/);
    assert.equal(second.state, 'delivered');
  });

  test('a restarted controller resumes pending deliveries and takes in events it missed, without repeats', async () => {
    receiver.behaviour = () => 500;
    const first = controller();
    first.start();
    addWebhook();
    emit('deploy.queued', 'deploy queued', { kind: 'deploy' });
    await until(() => store.notifyDeliveries.head('hook')?.attempts === 1);
    await first.stop();
    // While no controller runs (a daemon down): an event is committed; it must not be lost.
    emit('deploy.succeeded', 'shop is live');
    receiver.behaviour = () => 200;
    const second = controller();
    second.start();
    await clock.advance(1000);
    await until(() => store.notifyDeliveries.pendingCount('hook') === 0 && receiver.received.length === 3);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(types(), ['deploy.queued', 'deploy.queued', 'deploy.succeeded']);
    assert.equal(store.notifyDeliveries.history({ notifier: 'hook', limit: 10 }).length, 2);
  });

  test('a URL the key no longer opens fails its attempts with back-off (no spin); a hung receiver never slows the events', async () => {
    const c = new NotifyController({ store, sealer: createSealer(randomBytes(32)), clock, log: log(), random: () => 0.5, retry: fastRetry, timeoutMs: 2000 });
    controllers.push(c);
    c.start();
    addWebhook();
    emit('deploy.succeeded', 'shop is live');
    await until(() => store.notifyDeliveries.head('hook')?.attempts === 1);
    await new Promise((r) => setTimeout(r, 200));
    const head = store.notifyDeliveries.head('hook')!;
    assert.equal(head.attempts, 1, 'waits out its back-off on the manual clock');
    assert.match(head.lastError!, /cannot be opened with this server's key/);
    assert.equal(receiver.received.length, 0);
    await c.stop();

    receiver.behaviour = () => 'hang';
    const live = controller({ timeoutMs: 10_000 });
    live.start();
    addWebhook('slow');
    emit('deploy.succeeded', 'first');
    await until(() => receiver.received.length === 1, 5000, 'the post that hangs');
    const started = performance.now();
    for (let i = 0; i < 2000; i++) emit('deploy.queued', `deploy ${i}`, { kind: 'deploy' });
    const ms = performance.now() - started;
    assert.ok(ms < 2000, `2000 events appended in ${Math.round(ms)} ms while the receiver hangs`);
    await live.settled();
    await until(() => store.notifyDeliveries.pendingCount('slow') === 2001, 5000, 'all queued behind the hung head');
  });

  test('Slack gets one readable line; URLs and secrets are in no list, log line, event or history', async () => {
    let slackPosts = 0;
    receiver.behaviour = (r) => (r.json && 'text' in r.json && slackPosts++ === 0 ? 404 : 200);
    const c = controller();
    c.start();
    const slackUrl = `${receiver.url}?token=qwertyTOKEN42`;
    addNotifier(ctx(c), { name: 'ops-slack', kind: 'slack', url: slackUrl, events: ['deploy.failed'] });
    const { secret } = addWebhook('hook', ['deploy.failed']);
    emit('deploy.failed', 'build failed: npm ci exited 1', { code: 'BUILD_FAILED', message: 'build failed: <npm ci> & more' });
    await until(() => receiver.received.length === 2, 5000, `two posts: ${logged.join('')}`);
    await until(() => store.notifyDeliveries.head('ops-slack')?.attempts === 1, 5000, 'the refused Slack post');
    await clock.advance(1000);
    await until(() => store.notifyDeliveries.pendingCount('ops-slack') === 0 && store.notifyDeliveries.pendingCount('hook') === 0);
    const slack = receiver.received.find((r) => r.json && 'text' in r.json)!;
    assert.deepEqual(Object.keys(slack.json), ['text']);
    assert.equal(slack.json.text, ':x: *shop* deploy failed: BUILD_FAILED: build failed: &lt;npm ci&gt; &amp; more');
    assert.equal(slack.headers['x-berth-signature'], undefined);
    const tested = await testNotifier(ctx(c), 'ops-slack');
    assert.equal(tested.result.status, 200);

    const listed = JSON.stringify(listNotifiers(ctx()));
    assert.match(listed, /"target":"http:\/\/127\.0\.0\.1:\d+\/…"/);
    const history = JSON.stringify(deliveryLog(ctx(), { limit: 50 }));
    assert.match(history, /HTTP 404: no route for …/, 'the receiver echoed the secret path; it was scrubbed');
    const events = JSON.stringify(store.events.forApp('shop'));
    for (const needle of ['s3cr3tPathToken', 'qwertyTOKEN42', secret!, '/hooks/T0001']) {
      assert.ok(!listed.includes(needle), `list has ${needle}`);
      assert.ok(!history.includes(needle), `history has ${needle}`);
      assert.ok(!events.includes(needle), `events have ${needle}`);
      assert.ok(!logged.join('').includes(needle), `a log line has ${needle}`);
    }
    assert.ok(logged.some((l) => l.includes('notification delivered')), 'the logger was heard');
  });
});

/**
 * Notifications through a real daemon: `berth notify add` with the real CLI, a webhook receiver on
 * 127.0.0.1 that verifies signatures with the secret the CLI printed, then a failed deploy and a crash loop
 * while the receiver is down for 30 s. Once it listens again on the same port it gets both, once each,
 * signed, in order; the daemon's log never holds the URL's secret path or the signing secret.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Receiver } from '../../src/notify/receiver.test-support.ts';
import { appCopy, TestBerth } from '../support/berth.ts';
import { request, waitFor } from '../support/http.ts';

let berth: TestBerth;
const receiver = new Receiver();
before(async () => {
  berth = await TestBerth.start({ https: false });
  await receiver.listen();
});
after(async () => {
  await receiver.close();
  await berth?.close();
});

const manifest = `name: loopy
health:
  path: /health
  interval: 200ms
  healthy_after: 1
  deadline: 3s
restart:
  max_restarts: 1
  window: 60s
  backoff: 100ms
`;

test('a failed deploy, an instance failing 3 health checks and a crash loop reach a webhook that was down for 30 s, once each, signed, in order', { timeout: 180_000 }, async () => {
  const added = await berth.cliAsync(['notify', 'add', 'ops-hook', '--webhook', receiver.url, '--events', 'deploy.failed,instance.unhealthy,instance.crashloop', '--json']);
  assert.equal(added.code, 0, added.err);
  const { secret, notifier } = JSON.parse(added.out);
  assert.match(secret, /^whsec_/);
  assert.equal(notifier.target, `http://127.0.0.1:${receiver.port}/…`);
  receiver.secret = secret;
  const tested = await berth.cliAsync(['notify', 'test', 'ops-hook']);
  assert.equal(tested.code, 0, tested.out + tested.err);
  assert.equal(receiver.received.at(-1)?.verified, 'ok');

  await receiver.close(); // down from here
  const downAt = Date.now();
  await berth.deploy('loopy', appCopy('versioned', { 'berth.yaml': manifest }));
  const broken = await berth.upload('loopy', appCopy('versioned', { 'berth.yaml': `${manifest}env:\n  CRASH_ON_START: "1"\n` }), '?wait=1');
  assert.equal((await berth.settle(broken.body.deployment.id, 'finished')).state, 'failed');
  const answers = async () => (await request({ port: berth.httpPort, host: 'loopy.localhost', path: '/' }).catch(() => ({ status: 0 }))).status === 200;
  const eventOf = async (type: string) => (await berth.api('GET', '/v1/apps/loopy/events?limit=100')).body.events.some((e: { type: string }) => e.type === type);
  // The instance fails its checks from now on: 3 in a row (web is checked every 5 s) and berth restarts it,
  // which the restart policy counts like a crash.
  await request({ port: berth.httpPort, host: 'loopy.localhost', path: '/sicken' });
  await waitFor('the unhealthy event', () => eventOf('instance.unhealthy'), 40_000, 200);
  // One more crash inside the window with max_restarts 1: a crash loop.
  await waitFor('the app to answer again after its restart', answers, 20_000, 100);
  await request({ port: berth.httpPort, host: 'loopy.localhost', path: '/crash' }).catch(() => undefined);
  await waitFor('the crash loop event', async () => (await berth.api('GET', '/v1/apps/loopy/events?limit=100')).body.events.some((e: { type: string }) => e.type === 'instance.crashloop'), 20_000, 100);

  const log = await waitFor('retries against the closed port', async () => {
    const out = (await berth.cliAsync(['notify', 'log', 'ops-hook'])).out;
    return /deploy\.failed +loopy +pending, next .* +[2-9] +- +ECONNREFUSED/.test(out) && out;
  }, 30_000, 500);
  assert.match(log, /instance\.unhealthy +loopy +pending/, 'the second waits behind the first');
  assert.match(log, /instance\.crashloop +loopy +pending/, 'the third waits behind them');
  await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - downAt))));
  assert.equal(receiver.received.length, 1, 'nothing got through while it was down');

  await receiver.listen(receiver.port);
  await waitFor('all three deliveries', () => receiver.received.length >= 4, 90_000, 200);
  await new Promise((r) => setTimeout(r, 1000));
  const got = receiver.received.slice(1);
  assert.deepEqual(got.map((r) => r.json.type), ['deploy.failed', 'instance.unhealthy', 'instance.crashloop']);
  assert.ok(got.every((r) => r.verified === 'ok'), JSON.stringify(got.map((r) => r.verified)));
  assert.equal(got[0].json.data.code, 'START_FAILED');
  assert.equal(got[0].json.app, 'loopy');
  assert.ok(got.slice(1).every((r) => r.json.app === 'loopy'));
  const history = await berth.cliAsync(['notify', 'log', 'ops-hook', '--json']);
  const states = JSON.parse(history.out).deliveries.map((d: { event: string; state: string }) => `${d.event}:${d.state}`);
  assert.deepEqual(states, ['instance.crashloop:delivered', 'instance.unhealthy:delivered', 'deploy.failed:delivered', 'notify.test:delivered']);

  const list = (await berth.cliAsync(['notify', 'list', '--json'])).out;
  for (const needle of ['s3cr3tPathToken', '/hooks/T0001', secret]) {
    assert.ok(!berth.daemonLog.includes(needle), `the daemon's log has ${needle}`);
    assert.ok(!list.includes(needle), `the list has ${needle}`);
    assert.ok(!history.out.includes(needle), `the log has ${needle}`);
  }
  assert.match(berth.daemonLog, /notification delivered/);
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFakeLog } from '../runtime/fake/state.ts';
import { sseEvents, startApi, type TestApi } from './inject.test-support.ts';

/** GET /v1/apps/:app/logs: the app's output across instances, by time; `follow=1` keeps streaming. */
let api: TestApi;
before(async () => {
  api = await startApi();
  await api.deploy('alpha', manifest, { version: 'one', logs: ['booting ${PORT}', 'ready'], stderr: ['warned'] });
});
after(() => api.close());

const manifest = 'name: app\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\nprocesses:\n  web: {}\n  worker: node worker.js\n';
type Line = { ts: string; stream: string; line: string; process: string; release: string; instance: string };
const logs = async (query: string) => (await api.call('GET', `/v1/apps/alpha/logs${query}`)).body.lines as Line[];

test('the last lines of every instance, oldest first, each with its process and release', async () => {
  const lines = await logs('');
  assert.equal(lines.filter((l) => l.line === 'ready').length, 2, 'web and worker');
  assert.ok(lines.every((l) => l.release === 'v1'));
  assert.deepEqual(new Set(lines.map((l) => l.process)), new Set(['web', 'worker']));
  assert.ok(lines.some((l) => l.stream === 'stderr' && l.line === 'warned'));
  const times = lines.map((l) => Date.parse(l.ts));
  assert.deepEqual(times, [...times].sort((a, b) => a - b));
});

test('process= keeps one process; tail= the last lines', async () => {
  const web = await logs('?process=web');
  assert.ok(web.length > 0 && web.every((l) => l.process === 'web'));
  const all = await logs('');
  assert.deepEqual(await logs('?tail=2'), all.slice(-2));
  assert.deepEqual(await logs('?tail=0'), []);
});

test('since= takes a duration or a time; anything else is 400 on `since`', async () => {
  assert.deepEqual(await logs('?since=2999-01-01T00:00:00Z'), []);
  assert.equal((await logs('?since=1h')).length, (await logs('')).length);
  const bad = await api.call('GET', '/v1/apps/alpha/logs?since=yesterday');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.details.issues[0].path, 'since');
  assert.equal((await api.call('GET', '/v1/apps/nope/logs')).status, 404);
});

test('follow=1 streams the past lines, then new ones, until the client goes away', async () => {
  const [web] = api.kit.ctx.store.instances.live('alpha').filter((i) => i.process === 'web');
  let written = false;
  const reply = await api.call('GET', '/v1/apps/alpha/logs?follow=1&process=web', {
    closeWhen: (received) => {
      // Once the past has arrived, the instance writes a line: only the follow can bring it.
      if (!written && received.includes('"ready"')) {
        written = true;
        setImmediate(() => appendFakeLog(api.kit.fake, { ts: Date.now(), stream: 'stdout', line: 'later line', instance: web.id }));
      }
      return received.includes('later line');
    },
  });
  assert.match(reply.headers['content-type'], /^text\/event-stream/);
  const lines = sseEvents(reply.text).map((e) => e.data.line);
  assert.deepEqual(lines, [`booting ${web.address!.split(':')[1]}`, 'ready', 'warned', 'later line']);
});

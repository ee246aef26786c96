import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rotatedAccessLogName } from '../dataplane/access-log.ts';
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

test('grep= keeps lines holding the text: smart case, the last `tail` matches, bounded length', async () => {
  const texts = async (query: string) => (await logs(query)).map((l) => l.line);
  assert.deepEqual(await texts('?grep=ready'), ['ready', 'ready']);
  assert.deepEqual(await texts('?grep=READY'), [], 'an upper-case letter makes it exact');
  assert.deepEqual(await texts('?grep=Warned'), []);
  assert.deepEqual(await texts('?grep=warn'), ['warned', 'warned'], 'web and worker');
  assert.deepEqual(await texts(`?grep=${encodeURIComponent('.*')}`), [], 'a plain substring, never a regex');
  // The last matches, even when newer lines that do not match follow them.
  const [worker] = api.kit.ctx.store.instances.live('alpha').filter((i) => i.process === 'worker');
  for (let i = 1; i <= 5; i++) appendFakeLog(api.kit.fake, { ts: Date.now(), stream: 'stdout', line: `Job ${i} done`, instance: worker.id });
  for (let i = 0; i < 200; i++) appendFakeLog(api.kit.fake, { ts: Date.now(), stream: 'stdout', line: `noise ${i}`, instance: worker.id });
  assert.deepEqual(await texts('?grep=Job&tail=2'), ['Job 4 done', 'Job 5 done']);
  assert.deepEqual(await texts('?grep=job&tail=1&process=worker'), ['Job 5 done']);
  const long = await api.call('GET', `/v1/apps/alpha/logs?grep=${'x'.repeat(257)}`);
  assert.equal(long.status, 400);
  assert.equal(long.body.error.details.issues[0].path, 'grep');
  assert.equal((await api.call('GET', `/v1/apps/alpha/logs?grep=${'x'.repeat(256)}`)).status, 200);
  assert.equal((await api.call('GET', '/v1/apps/alpha/logs?grep=')).status, 400);
});

test('grep= with follow=1 streams only the new lines that match', async () => {
  const [web] = api.kit.ctx.store.instances.live('alpha').filter((i) => i.process === 'web');
  let written = false;
  const reply = await api.call('GET', '/v1/apps/alpha/logs?follow=1&process=web&grep=tick', {
    closeWhen: (received) => {
      if (!written && received.includes('text/event-stream')) {
        written = true;
        setTimeout(() => {
          for (const line of ['not this', 'a TICK one', 'tick match']) appendFakeLog(api.kit.fake, { ts: Date.now(), stream: 'stdout', line, instance: web.id });
        }, 50);
      }
      return received.includes('tick match');
    },
  });
  assert.deepEqual(sseEvents(reply.text).map((e) => e.data.line), ['a TICK one', 'tick match']);
});

/** GET /v1/apps/:app/access-log: the proxy's access log, as it writes it into DATA/logs/access. */
const accessLine = (n: number, over: Record<string, unknown> = {}) =>
  JSON.stringify({
    time: new Date(Date.parse('2026-12-01T10:00:00Z') + n * 1000).toISOString(),
    ip: '127.0.0.9',
    method: 'GET',
    path: `/p/${n}`,
    status: 200,
    bytes: 5,
    ms: 2.5,
    host: 'alpha.test',
    app: 'alpha',
    release: api.kit.ctx.store.releases.listByApp('alpha')[0].id,
    instance: 'ins_x',
    id: `req-${n}`,
    proto: 'h1',
    tls: false,
    ...over,
  }) + '\n';

test('access-log: the app\'s requests across rotated files, release names, filters, bad filters refused', async () => {
  const dir = join(api.kit.dir, 'logs', 'access');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, rotatedAccessLogName(new Date('2026-12-01T10:01:00Z'))), accessLine(1, { status: 503, path: '/api/a' }) + accessLine(2, { app: 'beta' }));
  writeFileSync(join(dir, 'access.log'), accessLine(3, { status: 404 }) + accessLine(4, { release: 'rel_gone', path: '/api/b' }) + accessLine(5, { app: null, release: null, instance: null }));
  const read = async (query: string) => (await api.call('GET', `/v1/apps/alpha/access-log${query}`)).body;
  const all = await read('');
  assert.equal(all.complete, true);
  assert.deepEqual(all.entries.map((e: { requestId: string }) => e.requestId), ['req-1', 'req-3', 'req-4']);
  assert.deepEqual(all.entries[0], { time: '2026-12-01T10:00:01.000Z', ip: '127.0.0.9', method: 'GET', path: '/api/a', status: 503, bytes: 5, ms: 2.5, host: 'alpha.test', release: 'v1', instance: 'ins_x', requestId: 'req-1', proto: 'h1', tls: false });
  assert.equal(all.entries[2].release, 'rel_gone', 'an id the store does not know stays an id');
  const ids = async (query: string) => (await read(query)).entries.map((e: { requestId: string }) => e.requestId);
  assert.deepEqual(await ids('?status=5xx'), ['req-1']);
  assert.deepEqual(await ids('?status=404'), ['req-3']);
  assert.deepEqual(await ids('?path=/api'), ['req-1', 'req-4']);
  assert.deepEqual(await ids('?tail=1'), ['req-4']);
  assert.deepEqual(await ids('?since=2026-12-01T10:00:03Z'), ['req-3', 'req-4']);
  for (const [query, field] of [['status=6xx', 'status'], ['status=abc', 'status'], ['path=api', 'path'], ['tail=5001', 'tail'], ['since=soon', 'since']]) {
    const bad = await api.call('GET', `/v1/apps/alpha/access-log?${query}`);
    assert.equal(bad.status, 400, query);
    assert.equal(bad.body.error.code, 'REQUEST_INVALID');
    assert.equal(bad.body.error.details.issues[0].path, field, query);
  }
  assert.equal((await api.call('GET', '/v1/apps/nope/access-log')).status, 404);
});

test('access-log follow=1: the tail, then what the proxy appends', async () => {
  const dir = join(api.kit.dir, 'logs', 'access');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'access.log'), accessLine(10));
  let written = false;
  const reply = await api.call('GET', '/v1/apps/alpha/access-log?follow=1&status=2xx&tail=1', {
    closeWhen: (received) => {
      if (!written && received.includes('req-10')) {
        written = true;
        setTimeout(() => appendFileSync(join(dir, 'access.log'), accessLine(11, { status: 500 }) + accessLine(12)), 50);
      }
      return received.includes('req-12');
    },
  });
  assert.match(reply.headers['content-type'], /^text\/event-stream/);
  const events = sseEvents(reply.text);
  assert.deepEqual(events.map((e) => [e.event, e.data.requestId]), [['access', 'req-10'], ['access', 'req-12']]);
});

/**
 * GET /v1/events (the event log: filters, paging, follow) and GET /v1/audit (the report, read back by a
 * Markdown parser), over a real store with real deploys through the fake runtime.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { marked, type Tokens } from 'marked';
import type { NewEvent } from '../store/events.ts';
import { sseEvents, startApi, type TestApi } from './inject.test-support.ts';

let api: TestApi;
const manifest = 'name: app\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\nprocesses:\n  web: {}\n';
const DAY = 86_400_000;
before(async () => {
  api = await startApi();
  await api.deploy('alpha', manifest);
  await api.deploy('beta', manifest);
  // A deployment succeeds once the release it replaced has drained: wait for both, bounded.
  const deadline = Date.now() + 10_000;
  while (api.kit.ctx.store.events.query({ types: ['deploy.succeeded'] }, 10).length < 2) {
    if (Date.now() > deadline) throw new Error('the deploys did not succeed within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});
after(() => api.close());

type Ev = { seq: number; at: string; app: string | null; type: string; message: string; data?: any };
const append = (event: Partial<NewEvent> & Pick<NewEvent, 'type'>) =>
  api.kit.ctx.store.events.append({ at: Date.now(), app: 'alpha', deploymentId: null, message: event.type, data: null, ...event });
const list = async (query: string) => {
  const reply = await api.call('GET', `/v1/events${query}`);
  assert.equal(reply.status, 200, reply.text);
  return reply.body.events as Ev[];
};
const ascending = (events: Ev[]) => events.every((e, i) => i === 0 || events[i - 1].seq < e.seq);

test('every app\'s events or one app\'s, oldest first; an unknown app is 404, a destroyed one keeps its log', async () => {
  const all = await list('?limit=1000');
  assert.ok(ascending(all));
  assert.deepEqual(new Set(all.map((e) => e.app)), new Set(['alpha', 'beta']));
  const alpha = await list('?app=alpha&limit=1000');
  assert.ok(alpha.length > 0 && alpha.every((e) => e.app === 'alpha'));
  assert.deepEqual(alpha, all.filter((e) => e.app === 'alpha'));
  assert.ok(alpha.some((e) => e.type === 'deploy.succeeded'));

  const unknown = await api.call('GET', '/v1/events?app=nope');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, 'APP_NOT_FOUND');
  assert.equal((await api.call('GET', '/v1/events?app=Not_An_App')).status, 400);
  assert.equal((await api.call('GET', '/v1/audit?app=nope')).status, 404);
  // An app that is gone but whose events stay (the log is append-only) can still be read and audited.
  append({ app: 'gone', type: 'app.destroyed', data: { instances: 1 } });
  assert.deepEqual((await list('?app=gone')).map((e) => e.type), ['app.destroyed']);
  assert.equal((await api.call('GET', '/v1/audit?app=gone')).status, 200);
});

test('since= a duration or an ISO time; type= types and families; anything else 400 on its field', async () => {
  const old = append({ at: Date.now() - 10 * DAY, type: 'env.changed', data: { names: ['OLD'] } });
  assert.ok(!(await list('?app=alpha&since=7d&limit=1000')).some((e) => e.seq === old.seq));
  assert.ok((await list('?app=alpha&since=30d&limit=1000')).some((e) => e.seq === old.seq));
  assert.ok((await list(`?app=alpha&since=${new Date(Date.now() - 11 * DAY).toISOString()}&limit=1000`)).some((e) => e.seq === old.seq));

  const succeeded = await list('?type=deploy.succeeded');
  assert.deepEqual(succeeded.map((e) => `${e.app} ${e.type}`), ['alpha deploy.succeeded', 'beta deploy.succeeded']);
  const deploys = await list('?app=beta&type=deploy.*&limit=1000');
  assert.ok(deploys.length >= 3 && deploys.every((e) => e.type.startsWith('deploy.')));
  assert.deepEqual(await list('?app=beta&type=deploy&limit=1000'), deploys, '`deploy` is the family too');
  const two = await list('?app=beta&type=deploy.queued,deploy.succeeded,deploy.queued');
  assert.deepEqual(two.map((e) => e.type), ['deploy.queued', 'deploy.succeeded']);

  for (const [query, field] of [['since=yesterday', 'since'], ['since=2026-13-45', 'since'], ['type=nope', 'type'], ['type=deploy.*,,bogus.*', 'type'], ['type=,', 'type'], ['limit=0', 'limit'], ['limit=1001', 'limit'], ['after=-1', 'after']] as const) {
    const reply = await api.call('GET', `/v1/events?${query}`);
    assert.equal(reply.status, 400, query);
    assert.equal(reply.body.error.details.issues[0].path, field, query);
  }
  const many = await api.call('GET', `/v1/events?type=${Array.from({ length: 40 }, () => 'deploy').join(',')}`);
  assert.match(many.body.error.details.issues[0].message, /at most 32/);
});

test('limit= the latest events; after= the first ones after a seq: paging reads each event once', async () => {
  const all = await list('?limit=1000');
  assert.deepEqual(await list('?limit=3'), all.slice(-3));
  const paged: Ev[] = [];
  let cursor = 0;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await list(`?after=${cursor}&limit=4`);
    if (page.length === 0) break;
    paged.push(...page);
    cursor = page.at(-1)!.seq;
  }
  assert.deepEqual(paged, await list('?limit=1000'));
});

test('follow=1 streams the past, then each new event once, filtered, until the client goes away', { timeout: 15_000 }, async () => {
  let written = false;
  const reply = await api.call('GET', '/v1/events?app=alpha&type=instance.*,policy.*&follow=1', {
    closeWhen: (received) => {
      if (!written && received.includes('event: ')) {
        written = true;
        // Once the past has arrived: another app's event and another type (both filtered out), then ours.
        setImmediate(() => {
          append({ app: 'beta', type: 'instance.healthy', data: { instance: 'i_beta' } });
          append({ type: 'env.changed', data: { names: ['X'] } });
          append({ type: 'policy.violation', message: 'live one', data: { check: 'c', reason: 'r' } });
        });
      }
      return received.includes('live one');
    },
  });
  assert.match(reply.headers['content-type'], /^text\/event-stream/);
  const events = sseEvents(reply.text);
  const past = (await list('?app=alpha&type=instance.*,policy.*&limit=1000')).filter((e) => e.message !== 'live one');
  assert.ok(past.length > 0, 'the deploy started an instance');
  assert.deepEqual(events.map((e) => e.data.seq), [...past.map((e) => e.seq), events.at(-1)!.data.seq]);
  assert.ok(events.every((e) => e.id === e.data.seq && e.event === e.data.type && e.data.app === 'alpha'));
  assert.equal(events.at(-1)!.data.type, 'policy.violation');
});

test('follow=1 with after= pages through everything after the cursor, then goes live, without a gap or a repeat', { timeout: 15_000 }, async () => {
  const start = (await list('?limit=1')).at(-1)!.seq;
  for (let i = 0; i < 25; i++) append({ type: 'env.changed', message: `burst ${i}`, data: { names: [`N${i}`] } });
  let written = false;
  const reply = await api.call('GET', `/v1/events?app=alpha&after=${start}&limit=3&follow=1`, {
    closeWhen: (received) => {
      if (!written && received.includes('burst 24')) {
        written = true;
        setImmediate(() => append({ type: 'env.changed', message: 'after the burst', data: { names: ['Z'] } }));
      }
      return received.includes('after the burst');
    },
  });
  const messages = sseEvents(reply.text).map((e) => e.data.message);
  assert.deepEqual(messages, [...Array.from({ length: 25 }, (_, i) => `burst ${i}`), 'after the burst']);
});

const tables = (markdown: string) => marked.lexer(markdown).filter((t): t is Tokens.Table => t.type === 'table');

test('GET /v1/audit: the report of the period, its summary and timeline from the log, violations in their table', async () => {
  append({ type: 'policy.violation', message: 'violation', data: { check: 'no-latest-tag', reason: 'image uses | latest\nnot a digest', deployment: 'dep_x' } });
  append({ type: 'build.log', message: 'a build line the timeline does not list' });
  const reply = await api.call('GET', '/v1/audit?app=alpha&since=1d');
  assert.equal(reply.status, 200, reply.text);
  const report = reply.body;
  assert.equal(report.app, 'alpha');
  assert.ok(Date.parse(report.to) - Date.parse(report.from) === DAY);
  const inPeriod = (await list('?app=alpha&since=1d&limit=1000')).filter((e) => Date.parse(e.at) <= Date.parse(report.to));
  assert.equal(report.events, inPeriod.length);
  assert.equal(report.cut, false);

  const [timeline, violations] = tables(report.markdown);
  const listed = inPeriod.filter((e) => !['build.log', 'release.log', 'image.pull', 'health.probe'].includes(e.type));
  assert.equal(report.listed, listed.length);
  assert.deepEqual(timeline.rows.map((row) => marked.parseInline(row[1].text)), listed.map((e) => e.type));
  const deploysSucceeded = inPeriod.filter((e) => e.type === 'deploy.succeeded').length;
  assert.match(report.markdown, new RegExp(`\\*\\*Deployments:\\*\\* \\d+ started \\(\\d+ deploy.*\\); ${deploysSucceeded} succeeded, 0 failed`));
  assert.deepEqual(violations.rows.map((row) => row.map((cell) => marked.parseInline(cell.text))).at(-1)!.slice(1), ['no-latest-tag', 'image uses | latest<br>not a digest (deployment dep_x)']);

  const everyApp = (await api.call('GET', '/v1/audit')).body;
  assert.equal(everyApp.app, null);
  assert.equal(Date.parse(everyApp.to) - Date.parse(everyApp.from), 7 * DAY, 'the default period is a week');
  assert.match(everyApp.markdown, /^# berth audit: all apps\n/);
  assert.equal((await api.call('GET', '/v1/audit?since=soon')).body.error.details.issues[0].path, 'since');
});

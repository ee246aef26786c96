/**
 * `berth events` through main() against the real control API listening on loopback: the lines it prints
 * (never a terminal escape from a message), the filters it passes, `-f` printing the past and then live
 * events until the server goes away, and its usage errors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startApi, type TestApi } from '../../api/inject.test-support.ts';
import type { NewEvent } from '../../store/events.ts';
import { testIo, withTempDir, type TestIo } from '../cli.test-support.ts';
import { main } from '../main.ts';

let api: TestApi;
let url: string;
before(async () => {
  api = await startApi();
  await api.deploy('shop', 'name: app\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\nprocesses:\n  web: {}\n');
  await api.deploy('blog', 'name: app\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\nprocesses:\n  web: {}\n');
  // A deployment succeeds once the release it replaced has drained: wait for both, bounded.
  for (const deadline = Date.now() + 10_000; api.kit.ctx.store.events.query({ types: ['deploy.succeeded'] }, 2).length < 2; ) {
    if (Date.now() > deadline) throw new Error('the deploys did not succeed within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
});
after(async () => {
  api.server.closeAllConnections();
  await new Promise((resolve) => api.server.close(resolve));
  await api.close();
});

const append = (event: Partial<NewEvent> & Pick<NewEvent, 'type'>) =>
  api.kit.ctx.store.events.append({ at: Date.now(), app: 'shop', deploymentId: null, message: event.type, data: null, ...event });

function berth(argv: string[], io?: TestIo): Promise<{ code: number; io: TestIo }> {
  return withTempDir(async (home) => {
    const used = io ?? testIo({ env: { BERTH_URL: url, BERTH_TOKEN: api.token, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), BERTH_DATA: join(home, 'data'), NO_COLOR: '1' }, cwd: home });
    return { code: await main(argv, used), io: used };
  });
}

test('every app\'s events, oldest first, each line with its app; one app\'s without; a message\'s escapes never printed', async () => {
  append({ type: 'instance.unhealthy', message: 'web.1 answers \x1b[31m500\x1b[0m\x07 on /health', data: { instance: 'i_1', detail: 'x' } });
  const { code, io } = await berth(['events', '--limit', '1000']);
  assert.equal(code, 0, io.stderr.text);
  const lines = io.stdout.text.trimEnd().split('\n');
  assert.ok(lines.some((line) => / shop deploy\.succeeded /.test(line) || / shop deploy\.switched /.test(line)));
  assert.ok(lines.some((line) => / blog deploy\.queued /.test(line)));
  assert.match(lines.at(-1)!, /^\d\d:\d\d:\d\d\.\d{3} shop instance\.unhealthy web\.1 answers 500  on \/health$/);
  assert.ok(!io.stdout.text.includes('\x1b') && !io.stdout.text.includes('\x07'));

  const shop = await berth(['events', 'shop', '--type', 'instance.*', '--since', '1h']);
  assert.equal(shop.code, 0, shop.io.stderr.text);
  assert.ok(shop.io.stdout.text.trimEnd().split('\n').every((line) => /^\S+ instance\.\S+ /.test(line)), shop.io.stdout.text);

  const json = await berth(['events', 'blog', '--json', '--limit', '2']);
  const body = JSON.parse(json.io.stdout.text);
  assert.equal(body.events.length, 2);
  assert.ok(body.events.every((e: { app: string }) => e.app === 'blog'));

  const none = await berth(['events', 'blog', '--type', 'cert']);
  assert.equal(none.code, 0);
  assert.equal(none.io.stdout.text, '');
  assert.equal(none.io.stderr.text, 'no events of blog of type cert\n');
});

test('-f prints the past, then new events as they are recorded, until the server goes away', { timeout: 15_000 }, async () => {
  let recorded = false;
  let serverGone = false;
  const io = testIo({ env: { BERTH_URL: url, BERTH_TOKEN: api.token, NO_COLOR: '1' } });
  // The stdout sink sees each line: once the past is printed, an event is recorded; once it shows, the server drops the stream.
  const write = io.stdout.write.bind(io.stdout);
  io.stdout.write = (text: string) => {
    const ok = write(text);
    if (!recorded && /deploy\.succeeded|deploy\.switched/.test(io.stdout.text)) {
      recorded = true;
      setImmediate(() => append({ type: 'policy.violation', message: 'a live violation', data: { check: 'c', reason: 'r' } }));
    }
    if (!serverGone && io.stdout.text.includes('a live violation')) {
      serverGone = true;
      setImmediate(() => api.server.closeAllConnections());
    }
    return ok;
  };
  const started = Date.now();
  const { code } = await berth(['events', 'shop', '-f'], io);
  assert.equal(code, 1, io.stderr.text);
  assert.match(io.stderr.text, /the server ended the event stream/);
  assert.match(io.stdout.text, /policy\.violation a live violation\n$/);
  assert.ok(!/ blog /.test(io.stdout.text), 'only shop\'s events');
  assert.ok(Date.now() - started < 10_000);
});

test('usage errors: a bad --since, an empty --type, a --limit over 1000; unknown types and apps from the server', async () => {
  const cases: [string[], number, RegExp][] = [
    [['events', '--since', 'tuesday'], 2, /--since "tuesday" is neither a duration nor an ISO time/],
    [['events', '--type', ' '], 2, /--type is empty/],
    [['events', '--limit', '5000'], 2, /--limit 5000 is more than 1000/],
    [['events', '--limit', 'many'], 2, /limit/],
    [['events', 'a', 'b'], 2, /unexpected argument "b"/],
    [['events', '--type', 'deploy.oops'], 1, /"deploy\.oops" is no event type/],
    [['events', 'ghost'], 1, /ghost/],
  ];
  for (const [argv, code, message] of cases) {
    const result = await berth(argv);
    assert.equal(result.code, code, `${argv.join(' ')}: ${result.io.stderr.text}`);
    assert.match(result.io.stderr.text, message, argv.join(' '));
  }
});

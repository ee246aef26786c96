/**
 * `berth notify` end to end without a daemon process: the real CLI (main) against the real control API
 * listening on 127.0.0.1 (the deploy kit's store and fake runtime), the real notification controller, and
 * a real webhook receiver that verifies signatures with the secret the CLI printed. Real deploys (one that
 * succeeds, one that fails its health gate) reach the receiver once each, signed, in order. The URL's secret
 * path and the signing secret are looked for in every answer, log line, event and printed line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inject, startApi, type TestApi } from '../../api/inject.test-support.ts';
import { createApiServer } from '../../api/server.ts';
import { createLogger } from '../../lib/log.ts';
import { NotifyController } from '../../notify/controller.ts';
import { Receiver, until } from '../../notify/receiver.test-support.ts';
import { testIo } from '../cli.test-support.ts';
import { main } from '../main.ts';

const manifest = 'name: app\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\n  deadline: 1s\n  timeout: 300ms\ndeploy:\n  drain_timeout: 100ms\n  standby: 1m\n';

describe('berth notify against the real API', { timeout: 60_000 }, () => {
  let api: TestApi;
  let server: Server;
  let url: string;
  let controller: NotifyController;
  const receiver = new Receiver();
  const logged: string[] = [];
  const printed: string[] = [];
  let secret = '';

  before(async () => {
    api = await startApi();
    await receiver.listen();
    const log = createLogger({ sink: { write: (line: string) => logged.push(line) }, level: 'debug' });
    const ctx = { ...api.deps.ctx, log };
    controller = new NotifyController({ store: ctx.store, sealer: ctx.sealer, clock: ctx.clock, log, timeoutMs: 2000 });
    controller.start();
    server = createApiServer({ ...api.deps, ctx, notifications: controller });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await controller?.stop();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server?.closeAllConnections();
    await receiver.close();
    await api?.close();
  });

  const berth = async (argv: string[], stdin?: string) => {
    const io = testIo({ env: { BERTH_URL: url, BERTH_TOKEN: api.token, HOME: '/nonexistent', NO_COLOR: '1', BERTH_DATA: join('/nonexistent', 'data') }, ...(stdin !== undefined ? { stdin } : {}) });
    const code = await main(argv, io);
    printed.push(io.stdout.text, io.stderr.text);
    return { code, out: io.stdout.text, err: io.stderr.text };
  };

  test('add prints the generated secret once; list shows scheme and host only', async () => {
    const added = await berth(['notify', 'add', 'ops-hook', '--webhook', receiver.url]);
    assert.equal(added.code, 0, added.err);
    secret = /signing secret .*: (whsec_\S+)/.exec(added.out)![1];
    receiver.secret = secret;
    const list = await berth(['notify', 'list']);
    assert.match(list.out, /ops-hook +webhook +http:\/\/127\.0\.0\.1:\d+\/… +default/);
    const json = JSON.parse((await berth(['notify', 'list', '--json'])).out);
    assert.equal(json.notifiers[0].signed, true);
    assert.ok(!JSON.stringify(json).includes('s3cr3tPathToken') && !JSON.stringify(json).includes(secret));
  });

  test('bad input: a clear error with a stable code naming the field, nothing stored', async () => {
    const call = (body: unknown) => inject(server, { method: 'POST', url: '/v1/notifiers', headers: { authorization: `Bearer ${api.token}` }, body });
    const cases: [unknown, string, RegExp][] = [
      [{ name: 'x1', kind: 'webhook', url: 'ftp://example.com/hook' }, 'NOTIFIER_URL_INVALID', /^url is not a URL .*only http: and https:/],
      [{ name: 'x1', kind: 'webhook', url: 'http://' }, 'NOTIFIER_URL_INVALID', /^url is not a URL berth can post to: it has no host|^url is not a URL berth can post to: it is not a URL/],
      [{ name: 'x1', kind: 'webhook', url: `http://e.com/${'a'.repeat(3000)}` }, 'REQUEST_INVALID', /url/],
      [{ name: 'Bad_Name', kind: 'slack', url: 'https://hooks.slack.com/x' }, 'NOTIFIER_NAME_INVALID', /name/],
      [{ name: 'x1', kind: 'email', url: 'https://e.com/' }, 'REQUEST_INVALID', /kind: must be slack or webhook/],
      [{ name: 'x1', kind: 'webhook', url: 'https://e.com/', events: ['deploy.failed', 'deploy.exploded'] }, 'NOTIFIER_EVENTS_INVALID', /"deploy\.exploded": not event types/],
      [{ name: 'x1', kind: 'webhook', url: 'https://e.com/', secret: 'short' }, 'NOTIFIER_SECRET_INVALID', /at least 16/],
      [{ name: 'x1', kind: 'slack', url: 'https://e.com/', secret: 'long-enough-secret-123' }, 'NOTIFIER_SECRET_INVALID', /webhook only/],
      [{ name: 'ops-hook', kind: 'slack', url: 'https://e.com/' }, 'NOTIFIER_EXISTS', /ops-hook/],
    ];
    for (const [body, code, message] of cases) {
      const reply = await call(body);
      assert.equal(reply.body.error?.code, code, `${JSON.stringify(body).slice(0, 80)}: ${reply.text.slice(0, 300)}`);
      assert.ok(reply.status === 400 || (code === 'NOTIFIER_EXISTS' && reply.status === 409), reply.text);
      assert.match(`${reply.body.error.message} ${reply.body.error.hint ?? ''}`, message);
    }
    assert.deepEqual(api.deps.ctx.store.notifiers.list().map((n) => n.name), ['ops-hook']);
    const cli = await berth(['notify', 'add', 'x2', '--slack', 'https://e.com/', '--events', 'deploy.failed,nope']);
    assert.equal(cli.code, 1);
    assert.match(cli.err, /"nope"/);
  });

  test('test posts now, signed, and reports the answer; a receiver failing it exits 1', async () => {
    const ok = await berth(['notify', 'test', 'ops-hook']);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /ops-hook answered 200 in \d+ ms: ok/);
    const last = receiver.received.at(-1)!;
    assert.equal(last.json.type, 'notify.test');
    assert.equal(last.verified, 'ok');
    receiver.behaviour = () => 500;
    const failing = await berth(['notify', 'test', 'ops-hook']);
    receiver.behaviour = () => 200;
    assert.equal(failing.code, 1);
    assert.match(failing.out, /did not take the test message .*HTTP 500: no route for …/);
    const missing = await berth(['notify', 'test', 'nobody']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no notifier named "nobody"/);
  });

  test('a deploy that succeeds and one that fails reach the receiver once each, signed, in order', async () => {
    receiver.received.length = 0;
    await api.deploy('shop', manifest, { version: 'one' });
    await api.deploy('shop', manifest, { version: 'two', health: 'fail' });
    await until(() => receiver.received.filter((r) => r.json?.type === 'deploy.failed').length === 1, 10_000, 'the failed deploy');
    await new Promise((r) => setTimeout(r, 100));
    const seen = receiver.received.map((r) => `${r.json.type}${r.json.type === 'deploy.queued' ? `:${r.json.data.kind}` : ''}`);
    assert.deepEqual(seen.filter((t) => t.startsWith('deploy.')), ['deploy.queued:deploy', 'deploy.succeeded', 'deploy.queued:deploy', 'deploy.failed']);
    assert.ok(receiver.received.every((r) => r.verified === 'ok'));
    assert.equal(new Set(receiver.received.map((r) => r.json.id)).size, receiver.received.length, 'each once');
    const failed = receiver.received.find((r) => r.json.type === 'deploy.failed')!;
    assert.equal(failed.json.app, 'shop');
    assert.equal(failed.json.data.code, 'HEALTH_CHECK_FAILED');
    const log = await berth(['notify', 'log', 'ops-hook']);
    assert.match(log.out, /deploy\.failed +shop +delivered +1 +200/);
    assert.match(log.out, /notify\.test +- +failed +1 +500 +HTTP 500/);
  });

  test('a secret of your own comes from stdin, is never printed, and signs the posts', async () => {
    const own = 'my-own-signing-secret-7c1e';
    const added = await berth(['notify', 'add', 'own-hook', '--webhook', `${receiver.url}?k=v`, '--events', 'deploy.failed', '--secret-stdin'], `${own}\n`);
    assert.equal(added.code, 0, added.err);
    assert.ok(!added.out.includes(own) && !added.out.includes('signing secret'));
    receiver.secret = own;
    const tested = await berth(['notify', 'test', 'own-hook']);
    assert.equal(tested.code, 0, tested.out + tested.err);
    assert.equal(receiver.received.at(-1)!.verified, 'ok');
    receiver.secret = secret;
    assert.equal((await berth(['notify', 'remove', 'own-hook'])).code, 0);
  });

  test('remove deletes it; the URL and secret are in no answer, log line, event or printed line', async () => {
    const removed = await berth(['notify', 'remove', 'ops-hook']);
    assert.equal(removed.code, 0);
    assert.deepEqual(api.deps.ctx.store.notifiers.list(), []);
    assert.equal((await berth(['notify', 'list'])).out, 'no notifiers: `berth notify add NAME --slack URL` or `--webhook URL`\n');
    const events = JSON.stringify(api.deps.ctx.store.events.forApp('shop', 1000));
    const printedAfterAdd = printed.slice(2).join('\n'); // the add printed the secret once, on purpose
    for (const needle of ['s3cr3tPathToken', '/hooks/T0001', secret]) {
      assert.ok(!logged.join('').includes(needle), `a log line has ${needle}`);
      assert.ok(!events.includes(needle), `an event has ${needle}`);
      assert.ok(!printedAfterAdd.includes(needle), `the CLI printed ${needle}`);
    }
    assert.ok(logged.some((l) => l.includes('notification delivered')));
  });
});

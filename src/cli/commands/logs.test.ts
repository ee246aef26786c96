/** `berth logs`: --grep, --access and their bad input, against a fake API on 127.0.0.1. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../../errors/catalogue.ts';
import type { AccessLogEntry } from '../../model/wire.ts';
import { runCli, sendJson, type Handler } from '../cli.test-support.ts';
import { parse } from './logs.ts';
import { printable } from './logs-print.ts';

const berth = (argv: string[], routes: Record<string, Handler>) => runCli(argv, routes);

const usage = (argv: string[], message: RegExp) =>
  assert.throws(
    () => parse(argv),
    (error) => isBerthError(error) && error.code === 'USAGE' && message.test(error.message),
  );

test('parse: --grep, --access with --status and --path; bad values are usage errors naming the flag', () => {
  const { globals: _g, ...grep } = parse(['hello', '--grep', 'Error', '-f']);
  assert.deepEqual(grep, { app: 'hello', follow: true, grep: 'Error' });
  const { globals: _h, ...access } = parse(['hello', '--access', '--status', '5xx', '--path', '/api', '--tail', '20']);
  assert.deepEqual(access, { app: 'hello', follow: false, tail: 20, access: true, status: '5xx', path: '/api' });
  usage(['hello', '--grep', 'x'.repeat(257)], /--grep takes 1 to 256 characters, not 257/);
  usage(['hello', '--grep', ''], /--grep takes 1 to 256/);
  usage(['hello', '--access', '--status', '6xx'], /--status "6xx" is neither a status class/);
  usage(['hello', '--access', '--status', 'abc'], /--status "abc"/);
  usage(['hello', '--access', '--path', 'api'], /--path takes a path prefix starting with \//);
  usage(['hello', '--access', '--grep', 'x'], /--grep filters the app's output/);
  usage(['hello', '--access', '--tail', '5001'], /at most 5000/);
  usage(['hello', '--status', '5xx'], /--status filters the access log/);
});

test('printable escapes control characters and keeps the rest', () => {
  assert.equal(printable('ok\ttab é 漢'), 'ok\ttab é 漢');
  assert.equal(printable('\u001b[2J\u0007bell\u0000\u007f\u009b\u2028'), '\\x1b[2J\\x07bell\\x00\\x7f\\x9b\\u2028');
});

const entry = (over: Partial<AccessLogEntry> = {}): AccessLogEntry => ({
  time: '2020-01-02T03:04:05.006Z',
  ip: '127.0.0.9',
  method: 'GET',
  path: '/api/x',
  status: 503,
  bytes: 120,
  ms: 12.4,
  host: 'hello.test',
  release: 'v3',
  instance: 'ins_1',
  requestId: 'req-1',
  proto: 'h1',
  tls: false,
  ...over,
});

test('--access prints `time status method path ms bytes ip release`, escapes what clients sent; -f follows', async () => {
  const entries = [entry(), entry({ status: 200, path: '/\u001b]0;owned\u0007', ms: 0.42, release: null })];
  const routes: Record<string, Handler> = {
    'GET /v1/apps/hello/access-log': (req, res) => {
      if (req.query.get('follow') !== '1') return sendJson(res, 200, { entries, complete: false });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of entries) res.write(`event: access\ndata: ${JSON.stringify(e)}\n\n`);
      res.end();
    },
  };
  const { code, io, api } = await berth(['logs', 'hello', '--access', '--status', '5xx', '--path', '/api', '--tail', '2', '--since', '1h'], routes);
  assert.equal(code, 0);
  assert.deepEqual(Object.fromEntries(api.requests[0].query), { tail: '2', since: '1h', status: '5xx', path: '/api' });
  const lines = io.stdout.text.trimEnd().split('\n').map((l) => l.replace(/^\S+ \S+ /, 'TIME '));
  assert.deepEqual(lines, ['TIME 503 GET /api/x 12ms 120B 127.0.0.9 v3', 'TIME 200 GET /\\x1b]0;owned\\x07 0.4ms 120B 127.0.0.9 -']);
  assert.match(io.stderr.text, /older requests may exist/);

  const json = await berth(['logs', 'hello', '--access', '--json'], routes);
  assert.deepEqual(JSON.parse(json.io.stdout.text), { entries, complete: false });

  const followed = await berth(['logs', 'hello', '--access', '-f', '--json'], routes);
  assert.deepEqual(followed.io.stdout.text.trimEnd().split('\n').map((l) => JSON.parse(l)), entries);
  assert.equal(followed.code, 1, 'the server ending a follow is a failure');
  assert.match(followed.io.stderr.text, /the server ended the log stream/);
});

test('--grep goes to the server as `grep`; app lines are printed with control characters escaped', async () => {
  const ts = new Date().toISOString();
  const routes: Record<string, Handler> = {
    'GET /v1/apps/hello/logs': (_req, res) => sendJson(res, 200, { lines: [{ ts, stream: 'stdout', line: 'Error \u001b[31mred\u001b[0m', instance: 'ins_0000a1b2', process: 'web', release: 'v1' }] }),
  };
  const { code, io, api } = await berth(['logs', 'hello', '--grep', 'Error'], routes);
  assert.equal(code, 0);
  assert.equal(api.requests[0].query.get('grep'), 'Error');
  assert.match(io.stdout.text, / web\.a1b2 Error \\x1b\[31mred\\x1b\[0m\n$/);
  const none = await berth(['logs', 'hello', '--grep', 'nothing'], { 'GET /v1/apps/hello/logs': (_req, res) => sendJson(res, 200, { lines: [] }) });
  assert.equal(none.io.stderr.text, 'no log lines from hello holding "nothing"\n');
});

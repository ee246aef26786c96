import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError, fail } from '../errors/catalogue.ts';
import { parseManifest } from '../manifest/load.ts';
import { CliError, describeError, exitCodeFor } from './errors.ts';
import { formatAgo, formatBytes, formatElapsed, formatError, formatTable, shortId } from './format.ts';
import { stripAnsi, style, truncateAnsi, visibleLength } from './io.ts';

const plain = style(false);
const color = style(true);

test('tables: columns as wide as their widest cell, no trailing spaces', () => {
  const text = formatTable(
    ['NAME', 'STATUS', 'URL'],
    [
      ['hello', 'running', 'http://hello.localhost:8080'],
      ['a-much-longer-name', 'new', '-'],
    ],
  );
  assert.equal(text, ['NAME                STATUS   URL', 'hello               running  http://hello.localhost:8080', 'a-much-longer-name  new      -', ''].join('\n'));
});

test('tables: colour does not count towards the width', () => {
  const text = formatTable(['A', 'B'], [[color.green('running'), 'x'], ['new', 'y']], color);
  assert.equal(stripAnsi(text), 'A        B\nrunning  x\nnew      y\n');
  assert.ok(text.includes('\x1b[1mA        B\x1b[22m'), 'the header is bold');
});

test('sizes, elapsed times and ages', () => {
  assert.deepEqual([0, 1023, 1536, 10 * 1024, 5 * 1024 ** 2 + 1].map(formatBytes), ['0 B', '1023 B', '1.5 KB', '10 KB', '5.0 MB']);
  assert.deepEqual([0, 420, 9_949, 12_000, 125_000].map(formatElapsed), ['0.0s', '0.4s', '9.9s', '12s', '2m05s']);
  const now = Date.parse('2024-05-01T12:00:00Z');
  assert.deepEqual(
    ['2024-05-01T12:00:00Z', '2024-05-01T11:59:30Z', '2024-05-01T11:57:00Z', '2024-05-01T09:00:00Z', '2024-04-28T12:00:00Z', '2024-05-01T12:00:05Z'].map((iso) => formatAgo(iso, now)),
    ['just now', '30s ago', '3m ago', '3h ago', '3d ago', 'just now'],
  );
  assert.equal(shortId('ins_01jd3k9x2m4q7r8s'), '7r8s');
  assert.equal(shortId('abc'), 'abc');
});

test('errors: message and hint, on their own lines', () => {
  assert.equal(formatError(fail('APP_NOT_FOUND', { app: 'nope' })), 'error: app "nope" does not exist\nhint: list apps with `berth apps`; `berth deploy` creates an app on its first deploy\n');
  assert.equal(formatError({ message: 'no hint here' }), 'error: no hint here\n');
});

test('errors: a manifest with several problems lists every one, each with its line and fix', () => {
  let error: unknown;
  try {
    parseManifest('name: Hello World\nhealth:\n  interval: soon\n  nope: 1\n');
  } catch (caught) {
    error = caught;
  }
  const text = formatError(describeError(error));
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], 'error: berth.yaml is not valid:');
  assert.ok(lines.length >= 4, text);
  assert.match(text, /- name: line 1: .*\(fix: /);
  assert.match(text, /- health\.interval: line 3: /);
  assert.match(text, /- health\.nope: line 4: /);
  assert.equal(exitCodeFor(error), 1);
});

test('errors: issues from the API that the message does not mention are listed under it', () => {
  const error = new BerthError('MANIFEST_INVALID', 'berth.yaml is not valid', undefined, {
    issues: [{ path: 'processes.web.replicas', message: 'must be at most 20', fix: 'write replicas: 20' }],
  });
  assert.equal(formatError(error), 'error: berth.yaml is not valid\n  - processes.web.replicas: must be at most 20 (fix: write replicas: 20)\n');
});

test('errors: usage errors show the usage line, and colour only when asked', () => {
  const error = new BerthError('USAGE', 'missing <app>', 'see `berth status --help`', { usage: 'berth status <app>' });
  assert.equal(formatError(error), 'error: missing <app>\nusage: berth status <app>\nhint: see `berth status --help`\n');
  const colored = formatError(error, color);
  assert.notEqual(colored, formatError(error));
  assert.equal(stripAnsi(colored), formatError(error));
});

test('exit codes: 2 for usage, 1 for other failures, 130 for Ctrl-C', () => {
  assert.equal(exitCodeFor(fail('USAGE', { message: 'x' })), 2);
  assert.equal(exitCodeFor(fail('APP_NOT_FOUND', { app: 'x' })), 1);
  assert.equal(exitCodeFor(new CliError('x')), 1);
  assert.equal(exitCodeFor(new CliError('x', undefined, 2)), 2);
  assert.equal(exitCodeFor(new DOMException('x', 'AbortError')), 130);
  assert.equal(exitCodeFor(new Error('boom')), 1);
  assert.match(describeError(new Error('boom')).hint ?? '', /bug/);
});

test('truncating styled text keeps escapes whole and counts only visible characters', () => {
  const line = `${color.green('✔')} build  ${color.dim('1.2s')}  a long detail`;
  const cut = truncateAnsi(line, 12);
  assert.equal(visibleLength(cut), 12);
  assert.equal(stripAnsi(cut), '✔ build  1.…');
  assert.ok(cut.endsWith('\x1b[0m'));
  assert.equal(truncateAnsi('short', 10), 'short');
  assert.equal(plain.red('x'), 'x');
});

/**
 * `berth audit` through main() against the real control API listening on loopback (over a real store,
 * a real deploy through the fake runtime): the report on stdout, `--out` written whole and parsed back by
 * a Markdown parser, a directory or a missing folder refused before anything is asked or written.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { marked, type Tokens } from 'marked';
import { startApi, type TestApi } from '../../api/inject.test-support.ts';
import { testIo, withTempDir, type TestIo } from '../cli.test-support.ts';
import { main } from '../main.ts';

let api: TestApi;
let url: string;
before(async () => {
  api = await startApi();
  await api.deploy('shop', 'name: app\nhealth:\n  path: /health\n  interval: 100ms\n  healthy_after: 1\nprocesses:\n  web: {}\n');
  // A deployment succeeds once the release it replaced has drained: wait for it, bounded.
  for (const deadline = Date.now() + 10_000; api.kit.ctx.store.events.query({ types: ['deploy.succeeded'] }, 1).length === 0; ) {
    if (Date.now() > deadline) throw new Error('the deploy did not succeed within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  api.kit.ctx.store.events.append({ at: Date.now(), app: 'shop', deploymentId: null, type: 'policy.violation', message: 'violation', data: { check: 'max-replicas', reason: 'asked for | 9\nallowed 4' } });
  await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
});
after(async () => {
  api.server.closeAllConnections();
  await new Promise((resolve) => api.server.close(resolve));
  await api.close();
});

async function berth(argv: string[], home: string): Promise<{ code: number; io: TestIo }> {
  const io = testIo({ env: { BERTH_URL: url, BERTH_TOKEN: api.token, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), BERTH_DATA: join(home, 'data'), NO_COLOR: '1' }, cwd: home });
  return { code: await main(argv, io), io };
}

const tables = (markdown: string) => marked.lexer(markdown).filter((t): t is Tokens.Table => t.type === 'table');

test('the report on stdout: the app\'s timeline and violations, as tables a Markdown parser reads', () =>
  withTempDir(async (home) => {
    const { code, io } = await berth(['audit', 'shop', '--since', '1d'], home);
    assert.equal(code, 0, io.stderr.text);
    assert.match(io.stdout.text, /^# berth audit: shop\n/);
    const [timeline, violations] = tables(io.stdout.text);
    assert.deepEqual(timeline.header.map((c) => c.text), ['Time', 'Event', 'Details']);
    assert.ok(timeline.rows.some((row) => row[1].text === 'deploy.succeeded'));
    assert.deepEqual(violations.header.map((c) => c.text), ['Time', 'Check', 'Reason']);
    assert.deepEqual(violations.rows.map((row) => marked.parseInline(row[2].text)), ['asked for | 9<br>allowed 4']);
  }));

test('--out writes the report to the file, relative to the working directory, replacing one there', () =>
  withTempDir(async (home) => {
    writeFileSync(join(home, 'report.md'), 'an older report');
    const { code, io } = await berth(['audit', '--out', 'report.md'], home);
    assert.equal(code, 0, io.stderr.text);
    assert.equal(io.stdout.text, '');
    assert.match(io.stderr.text, /^wrote report\.md: \d+ events from \S+ to \S+\n$/);
    const written = readFileSync(join(home, 'report.md'), 'utf8');
    assert.match(written, /^# berth audit: all apps\n/);
    assert.equal(tables(written).length, 3, 'timeline, policy violations, checks skipped or failed');
    assert.deepEqual(readdirSync(home).filter((name) => name.endsWith('.tmp')), [], 'no temp file left behind');

    const json = await berth(['audit', 'shop', '--json'], home);
    const body = JSON.parse(json.io.stdout.text);
    assert.equal(body.app, 'shop');
    assert.match(body.markdown, /^# berth audit: shop\n/);
  }));

test('--out a directory, or in a folder that does not exist: refused, nothing written; bad --since and unknown app', () =>
  withTempDir(async (home) => {
    mkdirSync(join(home, 'reports'));
    const dir = await berth(['audit', '--out', 'reports'], home);
    assert.equal(dir.code, 2);
    assert.match(dir.io.stderr.text, /--out reports is a directory/);
    assert.match(dir.io.stderr.text, /--out reports\/audit\.md/);
    assert.deepEqual(readdirSync(join(home, 'reports')), []);

    const missing = await berth(['audit', '--out', 'nope/report.md'], home);
    assert.equal(missing.code, 2);
    assert.match(missing.io.stderr.text, /the folder nope does not exist/);

    const since = await berth(['audit', '--since', 'last week'], home);
    assert.equal(since.code, 2);
    assert.match(since.io.stderr.text, /--since "last week" is neither a duration nor an ISO time/);

    const unknown = await berth(['audit', 'ghost', '--out', 'ghost.md'], home);
    assert.equal(unknown.code, 1);
    assert.match(unknown.io.stderr.text, /ghost/);
    assert.deepEqual(readdirSync(home).filter((name) => name.startsWith('ghost')), [], 'no report file for an error');
  }));

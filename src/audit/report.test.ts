/**
 * The audit report read back by a real Markdown parser (marked, GFM): the two tables with their headers
 * and one row per entry, hostile text kept inside its cell and shown literally, the summary's counts, the
 * empty and the cut cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { marked, type Tokens } from 'marked';
import { MAX_CELL_CHARS, bound, cell } from './markdown.ts';
import { renderAudit, type AuditInput, type ReportEvent } from './report.ts';
import type { Tally } from './summary.ts';

const FROM = Date.parse('2026-11-30T12:00:00Z');
const TO = Date.parse('2026-12-07T12:00:00Z');
const at = (minutes: number) => new Date(FROM + minutes * 60_000).toISOString();
const ev = (minutes: number, type: string, message: string, data?: unknown, app: string | null = 'shop'): ReportEvent => ({ at: at(minutes), app, deploymentId: null, type, message, ...(data === undefined ? {} : { data }) });

const HOSTILE = 'upstream said | no\nthen `rm -rf` <script>alert(1)</script> *bold* [x](javascript:alert(1)) \x1b[31m';

function input(over: Partial<AuditInput> = {}): AuditInput {
  const timeline = [
    ev(1, 'deploy.queued', 'deploy queued', { kind: 'deploy' }),
    ev(2, 'deploy.failed', HOSTILE),
    ev(3, 'instance.crashloop', 'web.1 keeps crashing'),
    ev(4, 'policy.violation', 'policy broken', { check: 'image-signed', reason: 'not | signed\nby `us`', deployment: 'dep_1' }),
  ];
  const tally: Tally = [
    { type: 'build.log', kind: null, count: 40 },
    { type: 'cert.failed', kind: null, count: 1 },
    { type: 'cert.issued', kind: null, count: 2 },
    { type: 'deploy.failed', kind: null, count: 1 },
    { type: 'deploy.queued', kind: 'deploy', count: 3 },
    { type: 'deploy.queued', kind: 'rollback', count: 2 },
    { type: 'deploy.succeeded', kind: null, count: 4 },
    { type: 'instance.crashloop', kind: null, count: 1 },
    { type: 'instance.restarted', kind: null, count: 6 },
    { type: 'instance.unhealthy', kind: null, count: 2 },
    { type: 'policy.violation', kind: null, count: 1 },
    { type: 'check.passed', kind: null, count: 3 },
    { type: 'check.failed', kind: null, count: 1 },
    { type: 'checks.skipped', kind: null, count: 1 },
  ];
  const checks = [
    { ...ev(5, 'checks.skipped', 'checks skipped (--skip-checks): lint, test', { checks: ['lint', 'test'] }), deploymentId: 'dep_2' },
    { ...ev(6, 'check.failed', 'check lint failed: exited with code 1', { check: 'lint', when: 'build', durationMs: 1200, exitCode: 1, reason: 'exited with | code 1' }), deploymentId: 'dep_3' },
  ];
  return { app: 'shop', from: FROM, to: TO, tally, timeline: { events: timeline, total: timeline.length }, violations: { events: [timeline[3]], total: 1 }, checks: { events: checks, total: checks.length }, ...over };
}

const tables = (markdown: string) => marked.lexer(markdown).filter((t): t is Tokens.Table => t.type === 'table');
const headers = (t: Tokens.Table) => t.header.map((c) => c.text);
/** A cell as a reader sees it: its inline Markdown rendered to HTML. */
const shown = (c: Tokens.TableCell) => marked.parseInline(c.text) as string;

test('the three tables, with their headers and one row per event, hostile text kept in its cell and literal', () => {
  const markdown = renderAudit(input());
  const [timeline, violations, checks, ...more] = tables(markdown);
  assert.equal(more.length, 0);
  assert.deepEqual(headers(checks), ['Time', 'Checks', 'Outcome']);
  assert.deepEqual(checks.rows.map((row) => row.map(shown)), [
    ['2026-11-30T12:05:00Z', 'lint, test', 'skipped with --skip-checks (deployment dep_2)'],
    ['2026-11-30T12:06:00Z', 'lint', 'failed: exited with | code 1 (deployment dep_3)'],
  ]);
  assert.deepEqual(headers(timeline), ['Time', 'Event', 'Details']);
  assert.deepEqual(headers(violations), ['Time', 'Check', 'Reason']);
  assert.equal(timeline.rows.length, 4);
  assert.ok(timeline.rows.every((row) => row.length === 3), 'no cell spilled into another');
  assert.deepEqual(timeline.rows.map((row) => row[0].text), ['2026-11-30T12:01:00Z', '2026-11-30T12:02:00Z', '2026-11-30T12:03:00Z', '2026-11-30T12:04:00Z']);
  assert.deepEqual(timeline.rows.map((row) => shown(row[1])), ['deploy.queued', 'deploy.failed', 'instance.crashloop', 'policy.violation']);
  // The pipe stays in the cell, the line end is a line break, and nothing becomes code, a tag, emphasis or a link.
  assert.equal(shown(timeline.rows[1][2]), 'upstream said | no<br>then `rm -rf` &lt;script&gt;alert(1)&lt;/script&gt; *bold* [x](javascript:alert(1)) \ufffd[31m');
  assert.deepEqual(violations.rows.map((row) => row.map(shown)), [['2026-11-30T12:04:00Z', 'image-signed', 'not | signed<br>by `us` (deployment dep_1)']]);
});

test('the summary counts deploys by outcome, rollbacks, restarts, crash loops, unhealthy, certificates, types', () => {
  const markdown = renderAudit(input());
  assert.match(markdown, /^# berth audit: shop\n/);
  assert.match(markdown, /\*\*Period:\*\* 2026-11-30T12:00:00Z to 2026-12-07T12:00:00Z \(7d\)/);
  assert.match(renderAudit(input({ to: FROM + 3 * 86_400_000 + 5 * 3_600_000 + 61_234 })), /\(about 3d5h1m\)/);
  const list = marked.lexer(markdown).find((t): t is Tokens.List => t.type === 'list')!;
  const items = list.items.map((item) => item.text.split('\n')[0]);
  assert.deepEqual(items, [
    '**Deployments:** 5 started (3 deploy, 2 rollback); 4 succeeded, 1 failed, 0 interrupted',
    '**Rollbacks:** 2',
    '**Restarts:** 6; **crash loops:** 1; instance exits: 0',
    '**Unhealthy instances:** 2 reported unhealthy, 0 healthy again',
    '**Certificates:** 0 requested, 2 issued, 0 renewed, 1 failed',
    '**Policy violations:** 1',
    '**Checks:** 3 passed, 1 failed; 1 deploy skipped them',
    '**Events:** 68, by type:',
  ]);
  const counts = list.items.at(-1)!.tokens.find((t): t is Tokens.List => t.type === 'list')!;
  assert.deepEqual(counts.items.map((i) => i.text), ['build.log: 40', 'cert.failed: 1', 'cert.issued: 2', 'check.failed: 1', 'check.passed: 3', 'checks.skipped: 1', 'deploy.failed: 1', 'deploy.queued: 5', 'deploy.succeeded: 4', 'instance.crashloop: 1', 'instance.restarted: 6', 'instance.unhealthy: 2', 'policy.violation: 1']);
});

test('empty tables say so; every app: each row names its app', () => {
  const markdown = renderAudit(input({ app: null, tally: [], timeline: { events: [], total: 0 }, violations: { events: [], total: 0 }, checks: { events: [], total: 0 } }));
  assert.match(markdown, /^# berth audit: all apps\n/);
  const [timeline, violations, checks] = tables(markdown);
  assert.deepEqual(timeline.rows.map((r) => r.map((c) => c.text)), [['-', '-', 'no events recorded']]);
  assert.deepEqual(violations.rows.map((r) => r.map((c) => c.text)), [['-', '-', 'none recorded']]);
  assert.deepEqual(checks.rows.map((r) => r.map((c) => c.text)), [['-', '-', 'none recorded']]);
  assert.match(markdown, /\*\*Events:\*\* 0/);

  const all = renderAudit(input({ app: null }));
  assert.equal(shown(tables(all)[0].rows[2][2]), 'shop: web.1 keeps crashing');
  assert.equal(shown(tables(all)[1].rows[0][2]), 'shop: not | signed<br>by `us` (deployment dep_1)');
  assert.equal(shown(tables(all)[2].rows[0][2]), 'shop: skipped with --skip-checks (deployment dep_2)');
});

test('a cut timeline says how much it leaves out; long details are bounded', () => {
  const long = 'x'.repeat(5000);
  const events = [ev(1, 'deploy.failed', long)];
  const markdown = renderAudit(input({ timeline: { events, total: 10_003 }, violations: { events: [], total: 0 } }));
  assert.match(markdown, /This report was cut: it lists the last 1 of the period's 10003 events; the 10002 before them are left out/);
  const [timeline] = tables(markdown);
  assert.equal(timeline.rows.length, 1);
  assert.equal(timeline.rows[0][2].text.length, MAX_CELL_CHARS);
  assert.ok(timeline.rows[0][2].text.endsWith('…'));
});

test('bound never splits a surrogate pair; an empty cell shows a dash', () => {
  const text = 'a'.repeat(8) + '😀'.repeat(4);
  for (let max = 2; max < text.length; max++) {
    const cut = bound(text, max);
    assert.ok(cut.length <= max, `${max}`);
    assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(cut), `lone high surrogate at max ${max}`);
  }
  assert.equal(cell('  \n '), '-');
  assert.equal(cell('a\r\nb\rc'), 'a<br>b<br>c');
});

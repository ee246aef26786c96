/**
 * docs/alerts.yml: valid for Prometheus (`promtool check rules`), its unit tests in docs/alerts.test.yml
 * pass (`promtool test rules`: each rule fires for one series and not for another), and every metric it
 * names is one berth exposes (a renamed metric would leave an alert that never fires).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { zeroReading } from '../../src/metrics/counters.ts';
import { renderExposition } from '../../src/metrics/exposition.ts';
import { toolSuite } from '../support/tools.ts';

const docs = fileURLToPath(new URL('../../docs/', import.meta.url));
const promtool = toolSuite('promtool', 'prometheus');
if (promtool.skip) console.log(`# skipping the promtool checks of docs/alerts.yml: ${promtool.skip}`);

const run = (args: string[]) => execFileSync(promtool.path!, args, { cwd: docs, encoding: 'utf8', timeout: 60_000 });

test('promtool check rules accepts docs/alerts.yml', { skip: promtool.skip }, () => {
  assert.match(run(['check', 'rules', 'alerts.yml']), /SUCCESS: 3 rules found/);
});

test('promtool test rules: every rule fires and stays quiet as docs/alerts.test.yml says', { skip: promtool.skip }, () => {
  assert.match(run(['test', 'rules', 'alerts.test.yml']), /SUCCESS/);
});

test('the rules name only metrics berth exposes, and each of the three the issue asks for is there', () => {
  const rules = readFileSync(`${docs}alerts.yml`, 'utf8');
  const exposition = renderExposition({
    build: { version: 't', driver: 'fake' },
    connections: 0,
    series: [{ app: 'a', environment: 'production', release: 'v1', totals: zeroReading([1]), inflight: 0, websockets: 0 }],
    instances: [{ app: 'a', environment: 'production', release: 'v1', process: 'web', instance: 'i', state: 'serving', restarts: 0, cpuSeconds: 0, memoryBytes: 0, memoryLimitBytes: null }],
    deployments: [],
  });
  const exposed = new Set([...exposition.matchAll(/^(berth_[a-z_]+)[{ ]/gm)].map((m) => m[1]));
  const named = new Set([...rules.matchAll(/\b(berth_[a-z_]+)\b/g)].map((m) => m[1]));
  for (const name of named) assert.ok(exposed.has(name), `${name} is named by docs/alerts.yml but berth does not expose it`);
  for (const alert of ['BerthAppErrorRateHigh', 'BerthAppLatencyHigh', 'BerthInstanceRestarting']) assert.match(rules, new RegExp(`alert: ${alert}\\n`));
});

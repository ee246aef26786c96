import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { toolSuite } from '../../test/support/tools.ts';
import { zeroReading } from './counters.ts';
import { escapeLabel, renderExposition, type ExpositionInput } from './exposition.ts';

const totals = zeroReading([1, 2.5, 1000]);
totals.requests = 3;
totals.status['2xx'] = 2;
totals.status['5xx'] = 1;
totals.buckets = [1, 1, 0, 1];
totals.sumMs = 1503.5;

const input: ExpositionInput = {
  build: { version: '0.1.0', driver: 'process' },
  connections: 2,
  series: [{ app: 'shop', environment: 'production', release: 'v"3\\\n', totals, inflight: 1, websockets: 2 }],
  instances: [{ app: 'shop', environment: 'production', release: 'v3', process: 'web', instance: 'ins_1', state: 'serving', restarts: 0, cpuSeconds: 1.25, memoryBytes: 1024, memoryLimitBytes: null }],
  deployments: [],
};

test('label values escape backslash, double quote and line feed', () => {
  assert.equal(escapeLabel('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.match(renderExposition(input), /release="v\\"3\\\\\\n"/);
});

test('a histogram: cumulative buckets with le in seconds, +Inf equal to _count, _sum in seconds', () => {
  const text = renderExposition({ ...input, series: [{ ...input.series[0], release: 'v3' }] });
  const labels = 'app="shop",environment="production",release="v3"';
  for (const line of [`le="0.001"} 1`, `le="0.0025"} 2`, `le="1"} 2`, `le="+Inf"} 3`]) assert.ok(text.includes(`berth_http_request_duration_seconds_bucket{${labels},${line}\n`), line);
  assert.ok(text.includes(`berth_http_request_duration_seconds_sum{${labels}} 1.5035\n`));
  assert.ok(text.includes(`berth_http_request_duration_seconds_count{${labels}} 3\n`));
  assert.ok(text.includes('# TYPE berth_http_requests_total counter\n'));
  assert.ok(text.includes('berth_proxy_websockets_open{app="shop"} 2\n'));
  // A limit that is not set is not exposed as a number.
  assert.doesNotMatch(text, /^berth_instance_memory_limit_bytes\{/m);
});

test('every family has HELP and TYPE once; the proxy down leaves out its gauge and says so', () => {
  const text = renderExposition({ ...input, connections: null });
  const helps = text.match(/^# HELP (\S+)/gm)!.map((l) => l.slice(7));
  assert.equal(new Set(helps).size, helps.length);
  assert.equal(text.match(/^# TYPE /gm)!.length, helps.length);
  assert.match(text, /^berth_proxy_up 0$/m);
  assert.doesNotMatch(text, /^berth_proxy_open_connections /m);
});

const promtool = toolSuite('promtool', 'prometheus');
test('promtool check metrics accepts the output (escaped labels included)', { skip: promtool.skip }, () => {
  const out = execFileSync(promtool.path!, ['check', 'metrics'], { input: renderExposition(input), encoding: 'utf8', timeout: 30_000 });
  assert.equal(out.trim(), '');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReleaseStats } from '../../dataplane/route-table.ts';
import { countersOf, denialText, sampleDecision, splitWeights, stepPassed, stepPercent, windowFigures, windowSums, type Counters } from './analysis.ts';

const BOUNDS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

/** Counters with `ok` 2xx and `bad` 5xx answers, every answer in the bucket of `ms`. */
function counters(ok: number, bad: number, ms = 20, errors = 0): Counters {
  const counts = new Array<number>(BOUNDS.length + 1).fill(0);
  let i = 0;
  while (i < BOUNDS.length && ms > BOUNDS[i]!) i++;
  counts[i] = ok + bad + errors;
  return { requests: ok + bad + errors, status: { '2xx': ok, '3xx': 0, '4xx': 0, '5xx': bad, error: errors }, latency: { bounds: BOUNDS, counts, sumMs: (ok + bad + errors) * ms } };
}

function plus(a: Counters, b: Counters): Counters {
  return {
    requests: a.requests + b.requests,
    status: { '2xx': a.status['2xx'] + b.status['2xx'], '3xx': 0, '4xx': 0, '5xx': a.status['5xx'] + b.status['5xx'], error: a.status.error + b.status.error },
    latency: { bounds: BOUNDS, counts: a.latency.counts.map((n, i) => n + b.latency.counts[i]!), sumMs: a.latency.sumMs + b.latency.sumMs },
  };
}

test('the window is what happened between two readings, not since the proxy started', () => {
  const before = counters(1000, 5);
  const after = plus(before, counters(70, 30, 700));
  const f = windowFigures(before, after, 10_000);
  assert.equal(f.requests, 100);
  assert.equal(f.errorRate, 0.3);
  assert.equal(f.requestsPerSecond, 10);
  assert.ok(f.p99! > 500 && f.p99! <= 1000, `p99 ${f.p99} in the 500..1000 bucket`);
});

test('proxy errors count as failures, 4xx do not', () => {
  const f = windowFigures(null, counters(90, 0, 5, 10), 1000);
  assert.equal(f.errorRate, 0.1);
});

test('a counter that went down is a proxy restart: the window counts from it', () => {
  const before = counters(5000, 0);
  const after = counters(40, 10);
  const sums = windowSums(before, after);
  assert.equal(sums.requests, 50);
  assert.equal(sums.status['5xx'], 10);
  assert.ok(sums.buckets.every((n) => n >= 0));
});

test('no counters yet (no request reached the release): an empty window, null rates', () => {
  const f = windowFigures(null, null, 5000);
  assert.deepEqual(f, { requests: 0, requestsPerSecond: 0, errorRate: null, p50: null, p95: null, p99: null });
  assert.equal(windowFigures(counters(10, 0), null, 5000).requests, 0);
});

test('countersOf finds the app\'s release by its route-table name and copies it', () => {
  const stats = [{ app: 'a', release: 'v2', ...counters(3, 1) }, { app: 'b', release: 'v2', ...counters(9, 9) }] as unknown as ReleaseStats[];
  const found = countersOf(stats, 'a', 'v2')!;
  assert.equal(found.requests, 4);
  found.latency.counts[0] = 99;
  assert.notEqual(stats[0]!.latency.counts[0], 99);
  assert.equal(countersOf(stats, 'a', 'v3'), null);
});

test('the minimum sample guard: judge with enough requests, wait below, inconclusive past the wait', () => {
  const base = { minRequests: 50, stepEndsAt: 10_000, maxWaitMs: 5000 };
  assert.equal(sampleDecision({ ...base, requests: 50, now: 1000 }), 'judge');
  assert.equal(sampleDecision({ ...base, requests: 49, now: 1000 }), 'wait');
  assert.equal(sampleDecision({ ...base, requests: 49, now: 14_999 }), 'wait');
  assert.equal(sampleDecision({ ...base, requests: 49, now: 15_000 }), 'inconclusive');
  assert.equal(sampleDecision({ ...base, requests: 500, now: 99_000 }), 'judge', 'enough requests are judged whenever they come');
  assert.equal(sampleDecision({ ...base, maxWaitMs: 0, requests: 0, now: 10_000 }), 'inconclusive');
});

test('a step passes once its time is over and its last judgement allowed', () => {
  assert.equal(stepPassed({ now: 999, stepEndsAt: 1000 }), false);
  assert.equal(stepPassed({ now: 1000, stepEndsAt: 1000 }), true);
});

test('step percentages are berth.yaml\'s weights, bounded', () => {
  const steps = [{ weight: 10 }, { weight: 50 }, { weight: 150 }];
  assert.deepEqual([0, 1, 2, 3].map((i) => stepPercent(steps, i)), [10, 50, 100, 0]);
});

test('split weights give the canary its share whatever the instance counts', () => {
  for (const [percent, canary, stable] of [[10, 1, 1], [10, 1, 3], [50, 2, 5], [90, 3, 1], [1, 4, 4]] as const) {
    const w = splitWeights(percent, canary, stable);
    const share = (w.canary * canary) / (w.canary * canary + w.stable * stable);
    assert.ok(Math.abs(share - percent / 100) < 1e-9, `${percent} % with ${canary}/${stable} targets: ${share}`);
    assert.ok(Number.isInteger(w.canary) && Number.isInteger(w.stable));
  }
  assert.deepEqual(splitWeights(0, 2, 2), { canary: 0, stable: 200 }, 'at 0 % the canary gets nothing');
  assert.deepEqual(splitWeights(100, 1, 2), { canary: 200, stable: 0 });
  assert.deepEqual(splitWeights(30, 0, 2), { canary: 1, stable: 1 }, 'one side empty: plain weights, the other serves');
});

test('a denial carries the policy, its message and the numbers of both sides', () => {
  const canary = windowFigures(null, counters(288, 124), 10_000);
  const stable = windowFigures(null, counters(4000, 0), 10_000);
  const text = denialText({ policy: 'canary-error-rate', reason: 'the canary\'s error rate is above 1 %' }, canary, stable);
  assert.match(text, /^the canary's error rate is above 1 % \(policy canary-error-rate\): error rate 30\.1 %, p99 \d+ ms over 412 requests; stable error rate 0 %/);
});

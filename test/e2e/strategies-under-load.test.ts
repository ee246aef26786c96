import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestBerth } from '../support/berth.ts';
import { strategyScenario } from '../support/strategy-load.ts';

/**
 * Issue 12's acceptance on the process runtime: 20 deploys of each strategy under sustained load, with
 * 2 s requests in flight and a WebSocket open across deploys: 0 failed requests, every answer from a
 * serving or draining release, the WebSocket closed by a close frame at the drain deadline. The four
 * strategies run at the same time on one berth (one app each): the proxy and the deployer serve them all
 * at once, as they would a server's apps, and the file takes the time of the slowest.
 */
let berth: TestBerth;
before(async () => {
  berth = await TestBerth.start({ runtime: 'process' });
});
after(async () => {
  await berth?.close();
});

describe('20 deploys of each strategy under load, all four at once', { concurrency: true }, () => {
  test('blue-green', { timeout: 400_000 }, async () => {
    await strategyScenario(berth, { strategy: 'blue-green', deploys: 20 });
  });

  test('rolling, 3 web replicas, max_surge 1', { timeout: 400_000 }, async () => {
    await strategyScenario(berth, { strategy: 'rolling', app: 'st-surge', deploys: 20, replicas: 3, deploy: '  max_surge: 1\n  max_unavailable: 0\n' });
  });

  test('rolling, 3 web replicas, max_unavailable 1 (no surge)', { timeout: 400_000 }, async () => {
    await strategyScenario(berth, { strategy: 'rolling', app: 'st-inplace', deploys: 20, replicas: 3, deploy: '  max_surge: 0\n  max_unavailable: 1\n' });
  });

  // One 50 % step of 1 s judged every second, sticky by cookie: the load's requests carry `berth_split`
  // cookies spread over every bucket, so both sides take traffic during each canary; the default policies judge it.
  test('canary, one 50 % step of 1 s judged every second', { timeout: 400_000 }, async () => {
    const { samples } = await strategyScenario(berth, {
      strategy: 'canary',
      app: 'st-canary',
      deploys: 20,
      splitCookies: true,
      deployTimeoutMs: 60_000,
      deploy: '  canary:\n    steps:\n      - weight: 50\n        for: 1s\n    interval: 1s\n    min_requests: 5\n    max_wait: 10s\n    sticky: cookie\n',
    });
    // Every deploy after the first went through a judged canary step and was promoted by the analysis.
    const { events } = (await berth.api('GET', '/v1/apps/st-canary/events?limit=1000')).body;
    const count = (match: (e: any) => boolean) => events.filter(match).length;
    assert.equal(count((e) => e.type === 'canary.promoted' && e.data.by === 'analysis'), 20, 'each of the 20 canaries promoted by the analysis');
    assert.ok(count((e) => e.type === 'canary.verdict' && e.data.moment === 'canary_step' && e.data.allowed) >= 20, 'each had a passing step verdict');
    assert.equal(count((e) => e.type === 'canary.aborted'), 0);
    // The split really split: the step verdicts saw requests on both sides, in about the step's proportion.
    const steps = events.filter((e: any) => e.type === 'canary.verdict' && e.data.moment === 'canary_step');
    const both = steps.filter((e: any) => e.data.canaryFigures.requests > 0 && e.data.stableFigures.requests > 0);
    assert.ok(both.length >= 20, `${both.length} of ${steps.length} step verdicts saw both sides`);
    const canaryShare = both.reduce((sum: number, e: any) => sum + e.data.canaryFigures.requests, 0) / both.reduce((sum: number, e: any) => sum + e.data.canaryFigures.requests + e.data.stableFigures.requests, 0);
    assert.ok(canaryShare > 0.3 && canaryShare < 0.7, `the canary took ${(canaryShare * 100).toFixed(1)} % at a 50 % step`);
    assert.ok(samples.length > 1000);
  });
});

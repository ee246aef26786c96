/**
 * The collector and the use cases over a real SQLite store, a data plane that reports scripted cumulative
 * counters (an honest implementation of the port's stats()), and a runtime that reports usage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProxyStats, ReleaseStats } from '../dataplane/route-table.ts';
import { isBerthError } from '../errors/catalogue.ts';
import { ManualClock } from '../lib/clock.ts';
import { silentLogger } from '../lib/log.ts';
import { parseManifest } from '../manifest/load.ts';
import type { InstanceInfo, InstanceUsage } from '../runtime/driver.ts';
import { Store } from '../store/store.ts';
import { Metrics } from './metrics.ts';

const BOUNDS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

/** A proxy's counters, grown by `serve()`; `restart()` starts them again from zero under a new pid. */
class ScriptedProxy {
  pid = 100;
  startedAt = 1;
  readonly releases = new Map<string, ReleaseStats>();
  serve(app: string, release: string, count: number, status: '2xx' | '5xx' | 'error', ms: number): void {
    const k = `${app}/${release}`;
    const r = this.releases.get(k) ?? { app, release, requests: 0, status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, error: 0 }, latency: { bounds: BOUNDS, counts: new Array(BOUNDS.length + 1).fill(0), sumMs: 0 }, upstreamErrors: 0, retries: 0, inflight: 0, websockets: 0, websocketsOpened: 0 };
    r.requests += count;
    r.status[status] += count;
    let i = 0;
    while (i < BOUNDS.length && ms > BOUNDS[i]) i++;
    r.latency.counts[i] += count;
    r.latency.sumMs += ms * count;
    if (status === 'error') r.upstreamErrors += count;
    this.releases.set(k, r);
  }
  restart(): void {
    this.pid++;
    this.startedAt += 1000;
    this.releases.clear();
  }
  async stats(): Promise<ProxyStats> {
    return {
      generation: 1, address: { host: '127.0.0.1', port: 1 }, httpsAddress: null, certificatesGeneration: 0, pid: this.pid, version: 't', startedAt: this.startedAt,
      connections: 3, targets: {}, releases: structuredClone([...this.releases.values()]), unrouted: 0,
      tls: { handshakes: 0, refused: 0, plainHttp: 0, redirects: 0, challenges: 0 },
    };
  }
}

class UsageDriver {
  readonly name = 'fake';
  cpu = 0;
  async usage(ids: readonly string[]): Promise<InstanceUsage[]> {
    return ids.map((id) => ({ id, cpuSeconds: this.cpu, memoryBytes: 50 * 1024 * 1024, memoryLimitBytes: null }));
  }
  async list(): Promise<InstanceInfo[]> {
    return [{ id: 'ins_1', app: 'shop', release: 'rel_2', process: 'web', state: 'running', address: null, restarts: 4 }];
  }
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'berth-metrics-'));
  const store = new Store(join(dir, 'berth.db'));
  store.apps.ensure('shop', 1);
  store.builds.insert({ id: 'b1', app: 'shop', artifact: '/x', inferredCommand: null, gitSha: null, createdAt: 1 });
  for (const id of ['rel_1', 'rel_2']) {
    store.releases.insert({ id, app: 'shop', version: store.apps.takeVersion('shop'), buildId: 'b1', manifest: parseManifest(''), formation: {}, envSealed: 'x', description: 'd', status: 'ready', createdAt: 1 });
  }
  store.apps.setCurrentRelease('shop', 'rel_2');
  store.instances.insert({ id: 'ins_1', app: 'shop', releaseId: 'rel_2', deploymentId: null, process: 'web', ordinal: 1 }, 1);
  store.instances.move('ins_1', 'serving', 2, { address: '127.0.0.1:9' });
  const clock = new ManualClock(1_000_000_000);
  const proxy = new ScriptedProxy();
  const driver = new UsageDriver();
  const metrics = new Metrics({ dataplane: proxy, driver, store, clock, log: silentLogger, version: '1.2.3', usageEveryMs: 0 });
  return { store, clock, proxy, driver, metrics, done: () => (store.close(), rmSync(dir, { recursive: true, force: true })) };
}

test('the first reading is a baseline; later ones feed the windows per release; a proxy restart is a counter reset', async () => {
  const { clock, proxy, metrics, done } = setup();
  try {
    proxy.serve('shop', 'rel_1', 500, '2xx', 3); // before the daemon: not counted
    await metrics.collector.refresh(0);
    for (let i = 0; i < 12; i++) {
      clock.advance(5_000);
      proxy.serve('shop', 'rel_2', 45, '2xx', 20);
      proxy.serve('shop', 'rel_2', 5, '5xx', 400);
      proxy.serve('shop', 'rel_1', 10, 'error', 3);
      await metrics.collector.refresh(0);
    }
    const m = await metrics.appTraffic('shop', '1m');
    assert.equal(m.total.requests, 720);
    assert.equal(m.total.requestsPerSecond, 12);
    assert.equal(m.total.errorRate, 0.25); // (60 5xx + 120 proxy errors) / 720
    const [current, old] = m.releases;
    assert.deepEqual([current.name, current.current, current.requests, current.errorRate], ['v2', true, 600, 0.1]);
    assert.deepEqual([old.name, old.current, old.requests, old.errorRate], ['v1', false, 120, 1]);
    assert.ok(current.latencyMs.p50! > 10 && current.latencyMs.p50! <= 25, String(current.latencyMs.p50));
    assert.ok(current.latencyMs.p99! > 250 && current.latencyMs.p99! <= 500, String(current.latencyMs.p99));

    proxy.restart();
    proxy.serve('shop', 'rel_2', 7, '2xx', 1);
    clock.advance(5_000);
    const text = await metrics.scrape(); // refreshes first
    assert.match(text, /^berth_http_requests_total\{app="shop",environment="production",release="v2",code_class="2xx"\} 547$/m);
    assert.match(text, /^berth_http_requests_total\{app="shop",environment="production",release="v1",code_class="error"\} 120$/m);
    assert.match(text, /^berth_upstream_connect_errors_total\{app="shop",environment="production",release="v1"\} 120$/m);
    assert.match(text, /^berth_http_request_duration_seconds_bucket\{app="shop",environment="production",release="v2",le="0.025"\} 547$/m);
    assert.match(text, /^berth_http_request_duration_seconds_count\{app="shop",environment="production",release="v2"\} 607$/m);
    assert.match(text, /^berth_proxy_open_connections 3$/m);
    assert.match(text, /^berth_build_info\{version="1.2.3",driver="fake"\} 1$/m);
  } finally {
    done();
  }
});

test('instances: restarts, one-hot state, CPU as a counter and a percentage, memory', async () => {
  const { clock, driver, metrics, done } = setup();
  try {
    await metrics.collector.refresh(0);
    clock.advance(10_000);
    driver.cpu = 5; // 5 CPU seconds in 10 s: 50 %
    const m = await metrics.appTraffic('shop', '5m');
    assert.deepEqual(m.instances.map((i) => [i.id, i.release, i.state, i.run, i.restarts, i.cpuPercent, i.memoryBytes]), [['ins_1', 'v2', 'serving', 'running', 4, 50, 52428800]]);
    const text = await metrics.scrape();
    const labels = 'app="shop",environment="production",release="v2",process="web",instance="ins_1"';
    assert.ok(text.includes(`berth_instance_restarts_total{${labels}} 4\n`));
    assert.ok(text.includes(`berth_instance_state{${labels},state="serving"} 1\n`));
    assert.ok(text.includes(`berth_instance_state{${labels},state="failed"} 0\n`));
    assert.ok(text.includes(`berth_instance_cpu_seconds_total{${labels}} 5\n`));
    assert.ok(text.includes(`berth_instance_memory_bytes{${labels}} 52428800\n`));
  } finally {
    done();
  }
});

test('deployments by outcome and their durations come from the store', async () => {
  const { store, metrics, done } = setup();
  try {
    store.deployments.insert({ id: 'd1', app: 'shop', kind: 'deploy', releaseId: null, previousReleaseId: null }, 0);
    store.deployments.move('d1', 'failed', 7_000, { error: { code: 'BUILD_FAILED', message: 'x', logTail: [] } });
    store.deployments.insert({ id: 'd2', app: 'shop', kind: 'deploy', releaseId: null, previousReleaseId: null }, 0);
    store.deployments.move('d2', 'building', 1);
    const text = await metrics.scrape();
    assert.match(text, /^berth_deployments_total\{app="shop",kind="deploy",outcome="failed"\} 1$/m);
    assert.match(text, /^berth_deployment_duration_seconds_bucket\{app="shop",kind="deploy",outcome="failed",le="5"\} 0$/m);
    assert.match(text, /^berth_deployment_duration_seconds_bucket\{app="shop",kind="deploy",outcome="failed",le="10"\} 1$/m);
    assert.match(text, /^berth_deployment_duration_seconds_sum\{app="shop",kind="deploy",outcome="failed"\} 7$/m);
    assert.doesNotMatch(text, /outcome="building"/);
  } finally {
    done();
  }
});

test('bad input: a window that is not 1m, 5m or 1h, an unknown app', async () => {
  const { metrics, done } = setup();
  try {
    await assert.rejects(metrics.appTraffic('shop', '10m'), (e) => isBerthError(e) && e.code === 'METRICS_WINDOW_INVALID' && /window/.test(e.message) && /1m, 5m, 1h/.test(e.hint ?? ''));
    await assert.rejects(metrics.appTraffic('nope', '1m'), (e) => isBerthError(e) && e.code === 'APP_NOT_FOUND');
  } finally {
    done();
  }
});

test('a series idle for an hour is dropped; a release the proxy still reports is not counted twice when it comes back', async () => {
  const { clock, proxy, metrics, done } = setup();
  try {
    await metrics.collector.refresh(0);
    proxy.serve('shop', 'rel_2', 10, '2xx', 1);
    clock.advance(5_000);
    await metrics.collector.refresh(0);
    assert.equal(metrics.collector.series().length, 1);
    clock.advance(3_600_001);
    await metrics.collector.refresh(0);
    assert.equal(metrics.collector.series().length, 0);
    proxy.serve('shop', 'rel_2', 3, '2xx', 1);
    clock.advance(5_000);
    const m = await metrics.appTraffic('shop', '1m');
    assert.equal(m.total.requests, 3);
  } finally {
    done();
  }
});

test('a day of traffic on 10 apps and a release change each hour: the rings hold no more bytes than after the first hour', async () => {
  const { store, clock, proxy, metrics, done } = setup();
  try {
    const apps = Array.from({ length: 10 }, (_, i) => `app${i}`);
    for (const app of apps) store.apps.ensure(app, 1);
    let afterHour = 0;
    await metrics.collector.refresh(0);
    for (let tick = 1; tick <= (24 * 3_600_000) / 5_000; tick++) {
      // Each app's release changes every hour: the old one goes idle, and the proxy forgets it an hour later.
      const hour = Math.floor((tick * 5_000) / 3_600_000);
      for (const app of apps) {
        proxy.serve(app, `rel_h${hour}`, 7, tick % 10 === 0 ? '5xx' : '2xx', 40);
        proxy.releases.delete(`${app}/rel_h${hour - 2}`);
      }
      clock.advance(5_000);
      await metrics.collector.refresh(0);
      if (tick === 3_600_000 / 5_000) afterHour = metrics.collector.ringBytes();
    }
    const series = metrics.collector.series();
    assert.ok(series.length <= 2 * apps.length, `${series.length} series kept after a day`);
    assert.ok(metrics.collector.ringBytes() <= 2 * afterHour, `${metrics.collector.ringBytes()} bytes after a day, ${afterHour} after an hour`);
    const m = await metrics.appTraffic('app3', '5m');
    assert.equal(Math.round(m.total.requestsPerSecond * 5), 7, '7 requests every 5 s');
    assert.ok(m.total.errorRate !== null && Math.abs(m.total.errorRate - 0.1) < 0.01, `error rate ${m.total.errorRate}`);
  } finally {
    done();
  }
});

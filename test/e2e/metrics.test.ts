/**
 * Metrics end to end: a real daemon (process runtime) serving an app with a route that fails on purpose,
 * a real Prometheus (Debian's package) scraping berth's token-free `--metrics` listener and the control
 * API's /v1/metrics with the bearer token, a bounded load through the proxy; then the request rate and
 * the 5xx ratio read back from Prometheus' query API agree with berth's own (GET /v1/apps/:app/metrics,
 * what `berth status` prints) within 5 %, and `promtool check metrics` accepts the scrape.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appCopy, TestBerth } from '../support/berth.ts';
import { request, waitFor } from '../support/http.ts';
import { startLoad } from '../support/load.ts';
import { toolSuite } from '../support/tools.ts';

const prometheusTool = toolSuite('prometheus', 'prometheus');
const promtool = toolSuite('promtool', 'prometheus');
const skip = prometheusTool.skip || promtool.skip;
if (skip) console.log(`# skipping the Prometheus end-to-end test: ${skip}`);

/** The app: /fail answers 500 on purpose, /health and everything else 200. */
const SERVER = `import { createServer } from 'node:http';
createServer((req, res) => {
  if (req.url.startsWith('/fail')) return res.writeHead(500, { 'content-type': 'text/plain' }).end('failing on purpose\\n');
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ release: process.env.BERTH_RELEASE, path: req.url }));
}).listen(Number(process.env.PORT), '127.0.0.1');
`;
const MANIFEST = 'name: shop\nhealth:\n  path: /health\n  interval: 200ms\n  healthy_after: 1\n';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

let berth: TestBerth;
let prometheus: ChildProcess | undefined;
let promDir = '';
let promUrl = '';
let metricsPort = 0;

before(async () => {
  if (skip) return;
  berth = await TestBerth.start({ https: false, args: ['--metrics', '127.0.0.1:0'] });
  metricsPort = (JSON.parse(readFileSync(join(berth.dataDir, 'run', 'api.json'), 'utf8')) as { metrics: { port: number } }).metrics.port;
  promDir = mkdtempSync(join(tmpdir(), 'berth-prometheus-'));
  writeFileSync(join(promDir, 'token'), berth.token + '\n', { mode: 0o600 });
  const api = new URL(berth.apiUrl);
  writeFileSync(
    join(promDir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      `  - { job_name: berth, static_configs: [{ targets: ['127.0.0.1:${metricsPort}'] }] }`,
      `  - { job_name: berth-api, metrics_path: /v1/metrics, authorization: { credentials_file: ${join(promDir, 'token')} }, static_configs: [{ targets: ['${api.host}'] }] }`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(prometheusTool.path!, [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  prometheus.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-5000)));
  await waitFor('Prometheus to be ready', async () => {
    if (prometheus!.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
    return (await fetch(`${promUrl}/-/ready`)).ok;
  }, 30_000, 200);
});

after(async () => {
  prometheus?.kill('SIGTERM');
  await berth?.close();
  if (promDir) rmSync(promDir, { recursive: true, force: true });
});

/** An instant query's single value, at `time` (seconds since the epoch) or now. */
async function query(expr: string, time?: number): Promise<number> {
  const params = new URLSearchParams({ query: expr, ...(time === undefined ? {} : { time: String(time) }) });
  const res = await fetch(`${promUrl}/api/v1/query?${params}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { status: string; data: { result: { value: [number, string] }[] }; error?: string };
  assert.equal(body.status, 'success', body.error);
  assert.equal(body.data.result.length, 1, `${expr}: ${JSON.stringify(body.data.result)}`);
  return Number(body.data.result[0].value[1]);
}

const within = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= 0.05 * expected, `${what}: Prometheus ${actual}, berth ${expected} (more than 5 % apart)`);

test('Prometheus scrapes berth; its request rate and 5xx ratio agree with berth status within 5 %', { skip, timeout: 180_000 }, async (t) => {
  await berth.deploy('shop', appCopy('versioned', { 'server.js': SERVER, 'berth.yaml': MANIFEST }));
  const host = 'shop.localhost';
  // One request first, and scrapes of it: the series exist in Prometheus before the load (a counter's
  // first sample is never counted as an increase).
  assert.equal((await request({ port: berth.httpPort, host, path: '/' })).status, 200);
  const seen = () => fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query: 'berth_http_requests_total{job="berth",app="shop",code_class="5xx"}' })}`).then((r) => r.json() as Promise<{ data: { result: unknown[] } }>);
  await waitFor('Prometheus to see shop\'s series', async () => (await seen()).data.result.length === 1, 20_000, 250).catch(async (error) => {
    const targets = await (await fetch(`${promUrl}/api/v1/targets`)).text();
    const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    throw new Error(`${(error as Error).message}\ntargets: ${targets.slice(0, 2000)}\nscrape: ${scrape.slice(0, 3000)}`);
  });
  await new Promise((r) => setTimeout(r, 2_500));

  // The load: bounded in count and time; about one request in ten fails on purpose.
  const good = startLoad({ port: berth.httpPort, host, path: '/', concurrency: 3, maxDurationMs: 12_000, maxRequests: 30_000 });
  const bad = startLoad({ port: berth.httpPort, host, path: '/fail', concurrency: 1, maxDurationMs: 12_000, maxRequests: 3_000 });
  await new Promise((r) => setTimeout(r, 12_000)); // both end on their own by then (maxDurationMs)
  const samples = [...(await good.stop()), ...(await bad.stop())];
  const sent500 = samples.filter((s) => s.status === 500).length;
  assert.ok(samples.length > 500 && sent500 > 50, `the load ran: ${samples.length} requests, ${sent500} answered 500`);
  assert.equal(samples.filter((s) => s.status !== 200 && s.status !== 500).length, 0);

  // Scrapes of the final counters (1 s apart), then both sides read the same minute.
  await new Promise((r) => setTimeout(r, 3_000));
  const ours = (await berth.api('GET', '/v1/apps/shop/metrics?window=1m')).body;
  // Evaluated at the last scrape's time: Prometheus then extrapolates nothing past it (the counters were
  // flat since the load ended, but rate() would stretch the increase over the gap to "now").
  const at = await query('max(timestamp(berth_http_requests_total{job="berth",app="shop"}))');
  const rate = await query('sum(rate(berth_http_requests_total{job="berth",app="shop"}[1m]))', at);
  const ratio = await query('sum(rate(berth_http_requests_total{job="berth",app="shop",code_class=~"5xx|error"}[1m])) / sum(rate(berth_http_requests_total{job="berth",app="shop"}[1m]))', at);
  assert.ok(ours.total.requests >= samples.length, `berth counted ${ours.total.requests} of the ${samples.length} requests sent`);
  t.diagnostic(`sent ${samples.length} (${sent500} answered 500); berth 1m: ${ours.total.requests} requests, ${ours.total.requestsPerSecond}/s, error rate ${ours.total.errorRate}; Prometheus: ${rate.toFixed(4)}/s, ratio ${ratio.toFixed(6)}`);
  within(rate, ours.total.requestsPerSecond, 'requests/s over 1m');
  within(ratio, ours.total.errorRate, '5xx ratio over 1m');
  assert.ok(Math.abs(ours.total.errorRate - sent500 / samples.length) < 0.01, `berth's error rate ${ours.total.errorRate} vs ${sent500}/${samples.length} sent`);

  // The bearer-token job scrapes the same numbers from the control API.
  assert.equal(await query('up{job="berth-api"}'), 1);
  assert.equal(await query('sum(berth_http_requests_total{job="berth-api",app="shop",code_class="5xx"}) >= 0') >= 0, true);

  // `berth status` prints the traffic part from the same endpoint.
  const status = berth.cli(['status', 'shop']);
  assert.equal(status.code, 0, status.err);
  assert.match(status.out, /\ntraffic:\nFOR +WINDOW +REQ\/S +ERRORS/);
  assert.match(status.out, /\napp +1m +\S+ +\d+\.\d%/);

  // The scrape itself passes promtool's lint.
  const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  assert.match(scrape, /^berth_http_requests_total\{app="shop",environment="production",release="v1",code_class="5xx"\} \d+$/m);
  assert.equal(execFileSync(promtool.path!, ['check', 'metrics'], { input: scrape, encoding: 'utf8', timeout: 30_000 }).trim(), '');
});

test('the --metrics listener serves /metrics only, without a token; the API one needs it', { skip }, async () => {
  assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status, 200);
  assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/v1/apps`)).status, 404);
  assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST', body: 'x' })).status, 405);
  assert.equal((await fetch(`${berth.apiUrl}/v1/metrics`)).status, 401);
  const bad = await berth.api('GET', '/v1/apps/shop/metrics?window=7m');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'METRICS_WINDOW_INVALID');
  assert.equal((await berth.api('GET', '/v1/apps/nope/metrics')).status, 404);
});

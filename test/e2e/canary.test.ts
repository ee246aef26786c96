/**
 * The canary strategy end to end on the process runtime (a real daemon, proxy and app processes): a
 * release answering 30 % 5xx is aborted by the analysis with its verdict in `berth deploy` and `berth
 * audit`; a good one promotes on its own; chaos `slow` on a canary makes promotion refused for its p99;
 * `berth promote` / `berth abort` and their 409; a canary cut short by a daemon kill is aborted at the
 * next start. Load is bounded (4 clients, 100 cookies) and on loopback only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appCopy, TestBerth } from '../support/berth.ts';
import { waitFor } from '../support/http.ts';
import { startCanaryLoad, type CanarySample } from '../support/canary-client.ts';

interface Knobs {
  failPercent?: number;
  steps?: string;
  minRequests?: number;
  maxWait?: string;
  version: number;
}

const manifest = (app: string, k: Knobs) => `name: ${app}
health:
  path: /health
  interval: 200ms
  healthy_after: 1
deploy:
  strategy: canary
  drain_timeout: 2s
  standby: 0s
  canary:
    steps:
${k.steps ?? '      - weight: 30\n        for: 2s\n      - weight: 60\n        for: 2s'}
    interval: 1s
    min_requests: ${k.minRequests ?? 10}
    max_wait: ${k.maxWait ?? '20s'}
env:
  FAIL_PERCENT: "${k.failPercent ?? 0}"
  APP_VERSION: "${k.version}"
`;

let berth: TestBerth;
before(async () => {
  berth = await TestBerth.start({ runtime: 'process', https: false });
});
after(async () => {
  await berth?.close();
});

/** A fixture copy with v1 deployed (an app's first deploy has nothing to compare: it switches at once). */
async function firstRelease(app: string, knobs: Omit<Knobs, 'version'> = {}): Promise<string> {
  const dir = appCopy('canary', { 'berth.yaml': manifest(app, { ...knobs, version: 1 }) });
  await berth.deploy(app, dir);
  return dir;
}

const events = async (app: string, deployment: string) =>
  ((await berth.api('GET', `/v1/apps/${app}/events?limit=1000`)).body.events as any[]).filter((e) => e.deploymentId === deployment);

async function waitCanary(app: string, deployment: string): Promise<void> {
  await waitFor(`${app}'s canary to start`, async () => (await berth.api('GET', `/v1/deployments/${deployment}`)).body.state === 'canary', 60_000, 50);
}

describe('canary', { concurrency: false }, () => {
  test('a canary answering 30 % 5xx is aborted by the analysis: verdict in the deploy output and the audit, stable served throughout', { timeout: 120_000 }, async () => {
    const app = 'cbad';
    const dir = await firstRelease(app);
    const load = startCanaryLoad({ port: berth.httpPort, host: `${app}.localhost`, concurrency: 4, maxDurationMs: 60_000, pauseMs: 5 });
    writeFileSync(join(dir, 'berth.yaml'), manifest(app, { version: 2, failPercent: 30 }));
    const deploy = await berth.cliAsync(['deploy'], { cwd: dir });
    await new Promise((r) => setTimeout(r, 2500));
    const samples = await load.stop();

    assert.equal(deploy.code, 1, deploy.out + deploy.err);
    assert.match(deploy.err, /canary v2 aborted: the canary's error rate is above 1 % \(policy canary-error-rate\): error rate \d+(\.\d)? %/);
    assert.match(deploy.out + deploy.err, /canary\.verdict: step 1\/2: denied/);

    const { body: last } = await berth.api('GET', `/v1/apps/${app}/deployments`);
    const deployment = (last.deployments ?? last)[0];
    assert.equal(deployment.state, 'failed');
    assert.equal(deployment.error.code, 'CANARY_FAILED');
    const log = await events(app, deployment.id);
    const deny = log.find((e) => e.type === 'canary.verdict' && !e.data.allowed);
    assert.ok(deny, 'a denying verdict');
    assert.ok(deny.data.canaryFigures.errorRate > 0.2, JSON.stringify(deny.data));
    assert.ok(log.some((e) => e.type === 'canary.aborted' && e.data.code === 'CANARY_FAILED'));

    // Stable never failed a request; the canary's 5xx are the only failures, and none after the abort.
    const decidedAt = Date.parse(deny.at);
    const stableFailures = samples.filter((s) => s.release !== 'v2' && s.status !== 200);
    assert.deepEqual(stableFailures.slice(0, 3), [], `${stableFailures.length} requests failed off the canary`);
    const canaryAnswers = samples.filter((s) => s.release === 'v2');
    assert.ok(canaryAnswers.length > 0, 'the canary got traffic');
    const lastCanary = Math.max(...canaryAnswers.map((s) => s.start));
    assert.ok(lastCanary - decidedAt <= 2000, `the last request sent to the canary started ${lastCanary - decidedAt} ms after the deciding check`);
    const afterAbort = samples.filter((s) => s.start > decidedAt + 2000);
    assert.ok(afterAbort.length > 20, `requests after the abort (${afterAbort.length})`);
    assert.ok(afterAbort.every((s) => s.status === 200 && s.release === 'v1'), 'after the abort every answer is 200 from v1');

    const audit = await berth.cliAsync(['audit', app]);
    assert.equal(audit.code, 0, audit.err);
    assert.match(audit.out, /canary-error-rate/);
    const status = (await berth.api('GET', `/v1/apps/${app}`)).body;
    assert.equal(status.release.name, 'v1');
    assert.equal(status.canary, null);
    await waitFor('the canary instances to stop', async () => (await berth.api('GET', `/v1/apps/${app}`)).body.instances.every((i: any) => i.release.name === 'v1'), 15_000, 100);
  });

  test('a good canary goes through its steps and promotes on its own', { timeout: 120_000 }, async () => {
    const app = 'cgood';
    const dir = await firstRelease(app);
    const load = startCanaryLoad({ port: berth.httpPort, host: `${app}.localhost`, concurrency: 4, maxDurationMs: 60_000, pauseMs: 5 });
    writeFileSync(join(dir, 'berth.yaml'), manifest(app, { version: 2 }));
    const reply = await berth.upload(app, dir, '?wait=1');
    assert.equal(reply.status, 202);
    await waitCanary(app, reply.body.deployment.id);
    const during = (await berth.api('GET', `/v1/apps/${app}`)).body;
    assert.equal(during.canary.state, 'running');
    assert.equal(during.canary.canary, 'v2');
    assert.equal(during.canary.stable, 'v1');
    const status = berth.cli(['status', app]);
    assert.match(status.out, /mode\s+canary v2 at \d+ % \(step \d\/2/);
    const done = await berth.settle(reply.body.deployment.id);
    const samples = await load.stop();
    assert.ok(['draining', 'succeeded'].includes(done.state), JSON.stringify(done.error));
    const log = await events(app, done.id);
    assert.deepEqual(log.filter((e) => e.type === 'canary.step').map((e) => e.data.percent), [30, 60]);
    assert.ok(log.some((e) => e.type === 'canary.verdict' && e.data.moment === 'promote' && e.data.allowed));
    assert.ok(log.some((e) => e.type === 'canary.promoted' && e.data.by === 'analysis'));
    assert.equal((await berth.api('GET', `/v1/apps/${app}`)).body.release.name, 'v2');
    assert.deepEqual(samples.filter((s) => s.status !== 200).slice(0, 3), [], 'no request failed');
    assert.ok(new Set(samples.map((s) => s.release)).size === 2, 'both releases answered');
  });

  test('chaos slow on the canary: promotion refused with the p99 reason; abort puts traffic back; promote/abort without a canary: 409', { timeout: 120_000 }, async () => {
    const app = 'cslow';
    const dir = await firstRelease(app);
    const none = berth.cli(['promote', app]);
    assert.equal(none.code, 1);
    assert.match(none.err, /NO_CANARY_RUNNING|has no canary running/);
    const reply409 = await berth.api('POST', `/v1/apps/${app}/abort`, {});
    assert.equal(reply409.status, 409);
    assert.equal(reply409.body.error?.code ?? reply409.body.code, 'NO_CANARY_RUNNING');

    const load = startCanaryLoad({ port: berth.httpPort, host: `${app}.localhost`, concurrency: 4, maxDurationMs: 60_000, pauseMs: 5 });
    // min_requests out of reach: no step verdict, so what decides here is the promote asked for.
    writeFileSync(join(dir, 'berth.yaml'), manifest(app, { version: 2, minRequests: 100_000, maxWait: '1m', steps: '      - weight: 50\n        for: 1m' }));
    const reply = await berth.upload(app, dir, '?wait=1');
    await waitCanary(app, reply.body.deployment.id);
    const chaos = berth.cli(['chaos', app, 'slow', '--latency', '700ms', '--release', 'v2', '--for', '1m']);
    assert.equal(chaos.code, 0, chaos.err);
    await new Promise((r) => setTimeout(r, 3000));
    const refused = await berth.cliAsync(['promote', app]);
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.err, /promotion of canary v2 refused: the canary's p99 latency is above 500 ms; promotion refused \(policy promote-p99\): error rate 0 %, p99 \d+ ms/);
    assert.equal((await berth.api('GET', `/v1/deployments/${reply.body.deployment.id}`)).body.state, 'canary', 'a refused promote keeps the canary running');

    const aborted = await berth.cliAsync(['abort', app]);
    assert.equal(aborted.code, 0, aborted.err);
    assert.match(aborted.out, /canary v2 aborted: aborted by .+ \(cli\); all traffic is back on v1/);
    const abortedAt = Date.now();
    const done = await berth.settle(reply.body.deployment.id, 'finished');
    assert.equal(done.state, 'failed');
    assert.equal(done.error.code, 'CANARY_ABORTED');
    await new Promise((r) => setTimeout(r, 1000));
    const samples = await load.stop();
    const afterAbort = samples.filter((s) => s.start > abortedAt);
    assert.ok(afterAbort.length > 20, `${afterAbort.length} requests after the abort`);
    assert.ok(afterAbort.every((s) => s.release === 'v1' && s.status === 200));
    berth.cli(['chaos', app, 'off']);

    // The same app: a promote asked for (no chaos) is judged and switches.
    writeFileSync(join(dir, 'berth.yaml'), manifest(app, { version: 3, minRequests: 100_000, maxWait: '1m', steps: '      - weight: 50\n        for: 1m' }));
    const third = await berth.upload(app, dir, '?wait=1');
    await waitCanary(app, third.body.deployment.id);
    const promoted = await berth.api('POST', `/v1/apps/${app}/promote`, { by: 'test' });
    assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    assert.equal(promoted.body.outcome, 'promoted');
    assert.equal((await berth.api('GET', `/v1/apps/${app}`)).body.release.name, 'v3');
    const log = await events(app, third.body.deployment.id);
    assert.ok(log.some((e) => e.type === 'canary.promoted' && e.data.by === 'test'));
  });

  test('a canary cut short by a daemon kill is aborted at the next start: split gone, canary stopped, deployment failed', { timeout: 120_000 }, async () => {
    const app = 'ckill';
    const dir = await firstRelease(app);
    writeFileSync(join(dir, 'berth.yaml'), manifest(app, { version: 2, minRequests: 100_000, maxWait: '1m', steps: '      - weight: 50\n        for: 1m' }));
    const reply = await berth.upload(app, dir, '?wait=1');
    await waitCanary(app, reply.body.deployment.id);
    await berth.kill('SIGKILL');
    await berth.startDaemon();
    const d = (await berth.api('GET', `/v1/deployments/${reply.body.deployment.id}`)).body;
    assert.equal(d.state, 'failed');
    assert.equal(d.error.code, 'CANARY_ABORTED');
    assert.match(d.error.message, /the daemon stopped during step 1\/1 \(50 %\)/);
    const view = (await berth.api('GET', `/v1/apps/${app}`)).body;
    assert.equal(view.canary, null);
    assert.equal(view.release.name, 'v1');
    const load = startCanaryLoad({ port: berth.httpPort, host: `${app}.localhost`, concurrency: 2, maxRequests: 200, maxDurationMs: 20_000 });
    await new Promise((r) => setTimeout(r, 1500));
    const samples: CanarySample[] = await load.stop();
    assert.ok(samples.length > 10, `requests after the restart (${samples.length})`);
    assert.ok(samples.every((s) => s.status === 200 && s.release === 'v1'), 'every request on v1 after the restart');
    await waitFor('the canary instance to stop', async () => (await berth.api('GET', `/v1/apps/${app}`)).body.instances.every((i: any) => i.release.name === 'v1'), 15_000, 100);
  });
});

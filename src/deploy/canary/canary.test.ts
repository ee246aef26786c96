/**
 * The canary runner against honest parts: a real SQLite store, the fake runtime's instances (real HTTP
 * servers), the real proxy in process with its split, the real policy gate with berth's default
 * policies. Failures come from chaos `error` on the canary release, as `berth chaos` would set it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { PolicyGate } from '../../policy/gate.ts';
import { writeDefaultPolicies } from '../../policy/defaults.ts';
import { isBerthError } from '../../errors/catalogue.ts';
import { startKit, type Kit } from '../kit.test-support.ts';
import { startChaos } from '../chaos.ts';
import { canaryControls } from './controls.ts';

const GiB = 1024 ** 3;
let kit: Kit;

before(async () => {
  kit = await startKit();
  const dir = join(kit.dir, 'policies');
  writeDefaultPolicies(dir);
  kit.ctx.policies = new PolicyGate({ dir, dataDir: kit.dir, host: () => ({ diskFreeBytes: 40 * GiB, load1: 0.1, memoryFreeBytes: GiB, memoryTotalBytes: 2 * GiB, cores: 2 }) });
});
after(async () => {
  await kit.close();
});

const manifest = (o: { steps?: string; minRequests?: number; maxWait?: string } = {}) => `health:
  path: /health
  interval: 100ms
  healthy_after: 1
deploy:
  strategy: canary
  drain_timeout: 1s
  standby: 0s
  canary:
    steps:
${o.steps ?? '      - weight: 50\n        for: 1s'}
    interval: 1s
    min_requests: ${o.minRequests ?? 10}
    max_wait: ${o.maxWait ?? '10s'}
`;

const start = (app: string, yaml: string, version: string) => kit.deployer.start({ app, kind: 'deploy', description: version, wait: true, source: kit.source(yaml, { version }) });
async function first(app: string, yaml = manifest()): Promise<void> {
  start(app, yaml, 'one');
  await kit.deployer.idle(app);
}
async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A bounded request loop through the proxy, 100 clients by cookie: each answer's start, status and version. */
function hammer(app: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 3 });
  const samples: { start: number; status: number; version?: string }[] = [];
  let stop = false;
  const deadline = Date.now() + 30_000;
  const one = (n: number) =>
    new Promise<void>((resolve) => {
      const start = Date.now();
      const req = request({ host: '127.0.0.1', port: kit.port, path: '/', agent, headers: { host: `${app}.localhost`, cookie: `berth_split=${n % 100}` } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          let version: string | undefined;
          try {
            version = JSON.parse(body).version;
          } catch {}
          samples.push({ start, status: res.statusCode ?? 0, ...(version ? { version } : {}) });
          resolve();
        });
      });
      req.on('error', () => (samples.push({ start, status: 0 }), resolve()));
      req.end();
    });
  let n = 0;
  const workers = [0, 1, 2].map(async () => {
    while (!stop && Date.now() < deadline && samples.length < 20_000) await one(n++);
  });
  return {
    samples,
    async stop() {
      stop = true;
      await Promise.all(workers);
      agent.destroy();
      return samples;
    },
  };
}

describe('canary runner', { concurrency: false }, () => {
  test('a failing canary is aborted at the deciding check: traffic back on stable at once, canary stopped, deployment failed with the numbers', async () => {
    await first('bad');
    const load = hammer('bad');
    const d = start('bad', manifest({ steps: '      - weight: 50\n        for: 20s' }), 'two');
    await until('the canary', () => kit.ctx.store.deployments.get(d.id)!.state === 'canary');
    await startChaos(kit.ctx, kit.routing, { app: 'bad', mode: 'error', status: 503, ratio: 0.3, release: 'v2', forMs: 60_000 });
    await kit.deployer.idle('bad');
    // The load goes on past the deciding check + 2.5 s, so the requests after the abort are there to judge.
    const decided = kit.ctx.store.events.forDeployment(d.id).find((e) => e.type === 'canary.verdict' && !(e.data as { allowed: boolean }).allowed);
    await new Promise((r) => setTimeout(r, Math.max(500, (decided?.at ?? 0) + 2500 - Date.now())));
    const samples = await load.stop();
    const done = kit.ctx.store.deployments.get(d.id)!;
    assert.equal(done.state, 'failed');
    assert.equal(done.error!.code, 'CANARY_FAILED');
    assert.match(done.error!.message, /^canary v2 aborted: the canary's error rate is above 1 % \(policy canary-error-rate\): error rate \d+(\.\d+)? %, p99 \d+ ms over \d+ requests; stable error rate 0 %/);
    const events = kit.ctx.store.events.forDeployment(d.id);
    const deny = events.find((e) => e.type === 'canary.verdict' && !(e.data as { allowed: boolean }).allowed)!;
    assert.ok(events.some((e) => e.type === 'policy.violation'), 'the deny reaches the audit report');
    const rollout = kit.ctx.store.rollouts.get(d.id)!;
    assert.equal(rollout.state, 'aborted');
    assert.equal(rollout.last!.allowed, false);
    const onCanary = samples.filter((s) => s.version === 'two');
    assert.ok(onCanary.length > 0, 'the canary took traffic');
    const lastCanary = Math.max(...onCanary.map((s) => s.start));
    assert.ok(lastCanary - deny.at <= 2000, `last request to the canary began ${lastCanary - deny.at} ms after the deciding check`);
    const later = samples.filter((s) => s.start > deny.at + 1000);
    assert.ok(later.length > 0, 'requests were sent after the abort');
    assert.ok(later.every((s) => s.version === 'one' && s.status === 200));
    assert.ok(samples.every((s) => s.version !== 'one' || s.status === 200), 'stable never failed');
    assert.deepEqual(kit.ctx.store.instances.live('bad').filter((i) => i.state !== 'stopped').map((i) => kit.ctx.store.releases.get(i.releaseId)!.version), [1]);
    assert.equal(kit.routing.last()!.apps.bad!.split ?? null, null, 'the split is gone from the table');
  });

  test('a good canary promotes after its steps; the rollout is kept as promoted', async () => {
    await first('good');
    const load = hammer('good');
    const d = start('good', manifest({ steps: '      - weight: 20\n        for: 1s\n      - weight: 60\n        for: 1s' }), 'two');
    await until('the switch', () => ['draining', 'succeeded', 'failed'].includes(kit.ctx.store.deployments.get(d.id)!.state), 30_000);
    await load.stop();
    const done = kit.ctx.store.deployments.get(d.id)!;
    assert.ok(done.state === 'draining' || done.state === 'succeeded', JSON.stringify(done.error));
    const steps = kit.ctx.store.events.forDeployment(d.id).filter((e) => e.type === 'canary.step').map((e) => (e.data as { percent: number }).percent);
    assert.deepEqual(steps, [20, 60]);
    assert.equal(kit.ctx.store.rollouts.get(d.id)!.state, 'promoted');
    assert.equal(kit.ctx.store.apps.get('good')!.currentRelease, done.releaseId);
  });

  test('chaos slow on the canary: its p99 refuses the step, and the canary is aborted with the p99 reason', async () => {
    await first('slow');
    const load = hammer('slow');
    const d = start('slow', manifest({ steps: '      - weight: 50\n        for: 20s', minRequests: 5 }), 'two');
    await until('the canary', () => kit.ctx.store.deployments.get(d.id)!.state === 'canary');
    await startChaos(kit.ctx, kit.routing, { app: 'slow', mode: 'slow', latencyMs: 700, release: 'v2', forMs: 60_000 });
    await kit.deployer.idle('slow');
    await load.stop();
    const done = kit.ctx.store.deployments.get(d.id)!;
    assert.equal(done.error?.code, 'CANARY_FAILED');
    assert.match(done.error!.message, /the canary's p99 latency is above 500 ms \(policy canary-p99\): error rate 0 %, p99 (\d+) ms/);
    assert.ok(Number(/p99 (\d+) ms/.exec(done.error!.message)![1]) > 500);
  });

  test('too few requests: the step waits, then fails as inconclusive', async () => {
    await first('idle');
    const d = start('idle', manifest({ steps: '      - weight: 50\n        for: 1s', minRequests: 5, maxWait: '1s' }), 'two');
    await kit.deployer.idle('idle');
    const done = kit.ctx.store.deployments.get(d.id)!;
    assert.equal(done.state, 'failed');
    assert.equal(done.error!.code, 'CANARY_INCONCLUSIVE');
    assert.match(done.error!.message, /0 requests in step 1\/1, fewer than min_requests \(5\)/);
  });

  test('promote and abort reach a running canary; without one: NO_CANARY_RUNNING', async () => {
    await first('ctl');
    await assert.rejects(canaryControls(kit.ctx).promote('ctl', 'test'), (e) => isBerthError(e) && e.code === 'NO_CANARY_RUNNING');
    const long = manifest({ steps: '      - weight: 50\n        for: 1m', minRequests: 1_000_000, maxWait: '1m' });
    const a = start('ctl', long, 'two');
    await until('the canary', () => kit.ctx.store.deployments.get(a.id)!.state === 'canary');
    const aborted = await canaryControls(kit.ctx).abort('ctl', 'alice (cli)');
    assert.equal(aborted.outcome, 'aborted');
    assert.equal(kit.routing.last()!.apps.ctl!.split!.percent, 0, 'answered once the proxy has 0 %');
    await kit.deployer.idle('ctl');
    const failed = kit.ctx.store.deployments.get(a.id)!;
    assert.equal(failed.error!.code, 'CANARY_ABORTED');
    assert.match(failed.error!.message, /aborted by alice \(cli\)/);

    const p = start('ctl', long, 'three');
    await until('the canary', () => kit.ctx.store.deployments.get(p.id)!.state === 'canary');
    const promoted = await canaryControls(kit.ctx).promote('ctl', 'bob (cli)');
    assert.equal(promoted.outcome, 'promoted');
    assert.equal(promoted.rollout.state, 'promoted');
    await kit.deployer.idle('ctl');
    assert.equal(kit.ctx.store.releases.get(kit.ctx.store.apps.get('ctl')!.currentRelease!)!.version, 3, 'v3 (v2 was the aborted one)');
  });

  test('an interrupted canary (daemon shutdown) puts traffic back and stops its instances before it ends', async () => {
    await first('cut');
    const d = start('cut', manifest({ steps: '      - weight: 50\n        for: 1m', minRequests: 1_000_000, maxWait: '1m' }), 'two');
    await until('the canary', () => kit.ctx.store.deployments.get(d.id)!.state === 'canary');
    await kit.deployer.cancelApp('cut', 'the daemon is stopping');
    assert.equal(kit.ctx.store.deployments.get(d.id)!.state, 'interrupted');
    assert.equal(kit.ctx.store.rollouts.get(d.id)!.state, 'aborted');
    assert.deepEqual(kit.ctx.store.instances.live('cut').filter((i) => i.state !== 'stopped').map((i) => kit.ctx.store.releases.get(i.releaseId)!.version), [1]);
  });
});

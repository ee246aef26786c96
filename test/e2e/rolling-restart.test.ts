import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request, waitFor } from '../support/http.ts';
import { appCopy, TestBerth } from '../support/berth.ts';
import { failures, startLoad } from '../support/load.ts';

/**
 * A rolling deploy cut short by a daemon crash (SIGKILL after its first batch): the proxy keeps serving
 * both releases meanwhile, and the restarted daemon puts the current release back on its 3 replicas
 * before it drains the new instance. Traffic sees none of it.
 */
const manifest = (version: number) => `name: rr
processes:
  web:
    replicas: 3
health:
  path: /health
  interval: 100ms
  healthy_after: 3
deploy:
  strategy: rolling
  max_surge: 1
  max_unavailable: 0
  drain_timeout: 2s
env:
  APP_VERSION: "${version}"
`;

let berth: TestBerth;
before(async () => {
  berth = await TestBerth.start({ runtime: 'process' });
});
after(async () => {
  await berth?.close();
});

test('process runtime: a daemon killed mid-roll comes back to 3 instances of the current release, 0 failed requests', { timeout: 120_000 }, async () => {
  const dir = appCopy('versioned', { 'berth.yaml': manifest(1) });
  const first = await berth.deploy('rr', dir);
  const load = startLoad({ port: berth.httpPort, host: 'rr.localhost', concurrency: 2, maxDurationMs: 60_000 });
  try {
    writeFileSync(join(dir, 'berth.yaml'), manifest(2));
    const reply = await berth.upload('rr', dir, '?wait=1');
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    const id = reply.body.deployment.id;
    await waitFor('the first batch', async () => {
      const { events } = (await berth.api('GET', '/v1/events?app=rr&type=deploy.batch&limit=10')).body;
      return events.some((e: any) => e.deploymentId === id) || undefined;
    }, 30_000, 20);
    await berth.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    await berth.startDaemon();

    const cut = (await berth.api('GET', `/v1/deployments/${id}`)).body;
    assert.equal(cut.state, 'interrupted');
    const serving = await waitFor('3 instances of v1 serving and nothing of v2', async () => {
      const app = (await berth.api('GET', '/v1/apps/rr')).body;
      const live = app.instances.filter((i: any) => i.state === 'serving' || i.state === 'draining' || i.state === 'starting');
      return live.length === 3 && live.every((i: any) => i.state === 'serving' && i.release.name === 'v1') ? live : undefined;
    }, 30_000, 100);
    assert.equal(serving.length, 3);
    assert.equal(JSON.parse((await request({ port: berth.httpPort, host: 'rr.localhost' })).body).release, 'v1');
    const { events } = (await berth.api('GET', '/v1/events?app=rr&type=deploy.batch&limit=10')).body;
    assert.ok(events.some((e: any) => e.deploymentId === id && e.data.rollback === true), 'the put-back is recorded on the interrupted deployment');
    assert.equal(first.release.name, 'v1');
  } finally {
    const samples = await load.stop();
    assert.ok(samples.length > 50, `the load ran (${samples.length} requests)`);
    assert.deepEqual(failures(samples).slice(0, 5), [], `${failures(samples).length} of ${samples.length} requests failed`);
  }
});

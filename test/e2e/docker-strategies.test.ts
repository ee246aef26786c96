import { after, before, test } from 'node:test';
import { TestBerth } from '../support/berth.ts';
import { dockerSuite } from '../support/docker.ts';
import { ensureNodeImage } from '../support/docker-images.ts';
import { strategyScenario } from '../support/strategy-load.ts';

/**
 * The rolling strategy under load on real containers (skips visibly without an engine; fails in CI): the
 * process runtime's acceptance runs 20 deploys of each strategy (./strategies-under-load.test.ts); here
 * 6 (slow requests, a WebSocket and every batch on real containers), since every docker deploy builds an
 * image and the whole suite shares CI's two cores.
 */
const docker = await dockerSuite();
let berth: TestBerth | undefined;
before(async () => {
  if (docker.skip) return;
  berth = await TestBerth.start({ runtime: 'docker', args: ['--node-image', await ensureNodeImage()] });
});
after(async () => {
  await berth?.close();
});

test('docker runtime, rolling, 3 web replicas, max_surge 1: 6 deploys under load', { timeout: 400_000, skip: docker.skip }, async () => {
  await strategyScenario(berth!, { strategy: 'rolling', app: 'dst-surge', deploys: 6, replicas: 3, deploy: '  max_surge: 1\n  max_unavailable: 0\n', deployTimeoutMs: 120_000 });
});

import { after, before, test } from 'node:test';
import { TestBerth } from '../support/berth.ts';
import { dockerSuite } from '../support/docker.ts';
import { ensureNodeImage } from '../support/docker-images.ts';
import { zeroDowntimeScenario } from '../support/zero-downtime.ts';

/** The zero-downtime scenario of the core issue, on real containers (skips visibly without an engine; fails in CI). */
const docker = await dockerSuite();
let berth: TestBerth | undefined;
before(async () => {
  if (docker.skip) return;
  berth = await TestBerth.start({ runtime: 'docker', args: ['--node-image', await ensureNodeImage()] });
});
after(async () => {
  await berth?.close();
});

test('docker runtime: 10 deploys and 2 rollbacks under load, 0 failed requests, every answer from the active or a draining release', { timeout: 400_000, skip: docker.skip }, () =>
  zeroDowntimeScenario(berth!),
);

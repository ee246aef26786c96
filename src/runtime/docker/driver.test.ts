/**
 * The docker driver against a real Docker Engine, held to the same contract as every runtime driver.
 * Skips visibly without an engine, fails in CI (BERTH_REQUIRE_DOCKER=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerSuite } from '../../../test/support/docker.ts';
import { ensureNodeImage } from '../../../test/support/docker-images.ts';
import { silentLogger } from '../../lib/log.ts';
import { writeFixture } from '../contract-fixtures.test-support.ts';
import { runDriverContract } from '../driver-contract.test-support.ts';
import type { RuntimeDriver } from '../driver.ts';
import { createDockerDriver } from './driver.ts';
import { createDockerEngine } from './engine-http.ts';
import { containerName, LABEL, ownerFilter } from './names.ts';

const docker = await dockerSuite();

if (docker.skip) {
  test('docker driver contract', { skip: docker.skip }, () => {});
} else {
  const nodeImage = await ensureNodeImage();
  runDriverContract('docker', async () => {
    const engine = createDockerEngine();
    const base = await mkdtemp(join(tmpdir(), 'berth-docker-'));
    const ownerId = `test-${randomBytes(6).toString('hex')}`;
    const make = () => createDockerDriver({ engine, ownerId, root: join(base, 'runtime'), log: silentLogger, nodeImage, build: { memoryBytes: 1024 ** 3, cpus: 1 } });
    let driver: RuntimeDriver = make();
    const owned = ownerFilter(ownerId);
    return {
      get driver() {
        return driver;
      },
      async sourceFor(fixture) {
        const dir = await mkdtemp(join(base, `src-${fixture}-`));
        await writeFixture(fixture, dir);
        return dir;
      },
      async restartDriver() {
        await driver.close();
        driver = make();
        return driver;
      },
      async crash(id) {
        // From inside, as an app crash would: the engine does not count it as a stop berth asked for.
        const before = await engine.inspectContainer(containerName(id));
        assert.ok(before?.State.Running, `instance ${id} runs`);
        await engine.exec(before.Id, ['sh', '-c', 'kill -9 -1'], { timeoutMs: 5_000 }).catch(() => undefined);
        const deadline = Date.now() + 10_000;
        for (;;) {
          const now = await engine.inspectContainer(before.Id);
          // Stopped, or already started again by berth (a new run) when its back-off is short.
          if (!now || !now.State.Running || now.State.StartedAt !== before.State.StartedAt) return;
          if (Date.now() > deadline) throw new Error(`instance ${id} did not die`);
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      async artifacts() {
        // Release images; build-stage images are the app's build cache, not artifacts.
        return (await engine.listImages(ownerFilter(ownerId, [`${LABEL.kind}=image`]))).map((i) => i.Id).sort();
      },
      async cleanup() {
        try {
          for (const info of await driver.list()) await driver.stop(info.id);
          await driver.removeApp('contract');
          await driver.close();
          const left = {
            containers: (await engine.listContainers({ all: true, filters: owned })).map((c) => `${c.Names[0]} ${c.Labels[LABEL.kind]}`),
            networks: (await engine.listNetworks(owned)).map((n) => n.Name),
            volumes: (await engine.listVolumes(owned)).map((v) => v.Name),
            images: (await engine.listImages(owned)).map((i) => i.Id),
          };
          assert.deepEqual(left, { containers: [], networks: [], volumes: [], images: [] }, 'the driver leaves nothing of its own behind');
        } finally {
          for (const c of await engine.listContainers({ all: true, filters: owned })) await engine.removeContainer(c.Id, { force: true }).catch(() => {});
          for (const n of await engine.listNetworks(owned)) await engine.removeNetwork(n.Id).catch(() => {});
          for (const i of await engine.listImages(owned)) await engine.removeImage(i.Id, { force: true }).catch(() => {});
          await rm(base, { recursive: true, force: true });
        }
      },
    };
  }, { caseTimeoutMs: 120_000 }); // each case builds one or two images and starts containers, on CI's 2 shared cores
}

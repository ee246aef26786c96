/**
 * The engine echoes a container's env entry, Go-quoted, when it cannot start it ("environment variable
 * value can't contain null(\x00): \"TOKEN=...\""): the docker driver masks that before it reports the
 * failure. Against a real engine; skips visibly without one, fails in CI (BERTH_REQUIRE_DOCKER=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { requireDocker } from '../../../test/support/docker.ts';
import { ensureBusyboxImage } from '../../../test/support/docker-images.ts';
import { silentLogger } from '../../lib/log.ts';
import { instanceSpec } from '../contract-helpers.test-support.ts';
import { goQuoted } from '../go-quote.ts';
import { createDockerDriver } from './driver.ts';
import { createDockerEngine } from './engine-http.ts';
import { ownerFilter } from './names.ts';

test('a start the engine refuses over an env value does not report that value', { timeout: 120_000 }, async (t) => {
  if (!(await requireDocker(t))) return;
  const image = await ensureBusyboxImage();
  const engine = createDockerEngine();
  const root = await mkdtemp(join(tmpdir(), 'berth-docker-mask-'));
  const ownerId = `test-${randomBytes(6).toString('hex')}`;
  const driver = createDockerDriver({ engine, ownerId, root, log: silentLogger, nodeImage: image, build: { memoryBytes: 1024 ** 3, cpus: 1 } });
  // A value stored before the API refused NUL: the engine takes the container, the runtime refuses to start it.
  const secret = 'nul\x00in "the" secret-4f1e';
  try {
    const error = await driver.start(instanceSpec(image, { command: 'sleep 30', port: false, env: { TOKEN: secret }, secrets: [secret] })).then(
      () => assert.fail('the engine started a container whose env holds NUL'),
      (e: Error) => e,
    );
    assert.match(error.message, /\*\*\*/, error.message);
    for (const form of [secret, JSON.stringify(secret).slice(1, -1), inspect(secret).slice(1, -1), goQuoted(secret)]) {
      assert.ok(!error.message.includes(form), `the error shows ${JSON.stringify(form)}: ${error.message}`);
    }
    assert.ok(!error.message.includes('secret-4f1e'), error.message);
  } finally {
    await driver.removeApp('contract');
    await driver.close();
    for (const c of await engine.listContainers({ all: true, filters: ownerFilter(ownerId) })) await engine.removeContainer(c.Id, { force: true }).catch(() => {});
    await rm(root, { recursive: true, force: true });
  }
});

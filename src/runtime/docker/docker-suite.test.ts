/** test/support/docker.ts: without an engine, Docker tests skip visibly, or fail when BERTH_REQUIRE_DOCKER=1. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { dockerSuite, requireDocker, skipReason } from '../../../test/support/docker.ts';
import { defaultSocketPath } from './engine-http.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-docker-suite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const nowhere = join(dir, 'no-engine.sock');

test('the socket comes from a unix:// DOCKER_HOST, else the standard path', () => {
  assert.equal(defaultSocketPath({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }), '/run/user/1000/docker.sock');
  assert.equal(defaultSocketPath({ DOCKER_HOST: 'tcp://10.0.0.1:2375' }), '/var/run/docker.sock');
  assert.equal(defaultSocketPath({}), '/var/run/docker.sock');
});

test('no engine: the suite says skip, with a message naming the socket and the way to fail instead', async () => {
  const suite = await dockerSuite({ socketPath: nowhere, env: {} });
  assert.deepEqual(suite, { available: false, skip: `no Docker engine at ${nowhere} (set BERTH_REQUIRE_DOCKER=1 to fail instead)` });
  assert.equal(skipReason('/var/run/docker.sock'), 'no Docker engine at /var/run/docker.sock (set BERTH_REQUIRE_DOCKER=1 to fail instead)');
  await assert.rejects(dockerSuite({ socketPath: nowhere, env: { BERTH_REQUIRE_DOCKER: '1' } }), /BERTH_REQUIRE_DOCKER=1 but no Docker engine answers/);

  const skipped: string[] = [];
  const t = { skip: (message: string) => skipped.push(message) } as unknown as TestContext;
  assert.equal(await requireDocker(t, { socketPath: nowhere, env: {} }), false);
  assert.deepEqual(skipped, [suite.skip]);
  await assert.rejects(requireDocker(t, { socketPath: nowhere, env: { BERTH_REQUIRE_DOCKER: '1' } }));
});

test('in a real test run, a missing engine shows as a skip, and as a failure with BERTH_REQUIRE_DOCKER=1', () => {
  const file = join(dir, 'needs-docker.test.ts');
  const support = pathToFileURL(join(import.meta.dirname, '../../../test/support/docker.ts')).href;
  writeFileSync(
    file,
    `import { describe, test } from 'node:test';
import { dockerSuite } from ${JSON.stringify(support)};
const docker = await dockerSuite();
describe('needs docker', { skip: docker.skip }, () => { test('runs', () => {}); });
`,
  );
  // Without NODE_TEST_CONTEXT: set by an outer `node --test`, it would make the child report in binary to it.
  const { NODE_TEST_CONTEXT: _, ...outer } = process.env;
  const runTest = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], {
      env: { ...outer, DOCKER_HOST: `unix://${nowhere}`, BERTH_REQUIRE_DOCKER: '', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
  const local = runTest({});
  assert.equal(local.status, 0, local.stdout + local.stderr);
  assert.ok(local.stdout.includes(`# SKIP no Docker engine at ${nowhere} (set BERTH_REQUIRE_DOCKER=1 to fail instead)`), local.stdout);
  const ci = runTest({ BERTH_REQUIRE_DOCKER: '1' });
  assert.notEqual(ci.status, 0, ci.stdout);
  assert.match(ci.stdout + ci.stderr, /BERTH_REQUIRE_DOCKER=1 but no Docker engine answers/);
});

test('with the engine this machine runs, the suite runs (unless there is none)', async (t) => {
  const suite = await dockerSuite({ env: {} });
  if (!suite.available) return t.skip(suite.skip as string);
  assert.deepEqual(suite, { available: true, skip: false });
  assert.equal(await requireDocker(t), true);
});

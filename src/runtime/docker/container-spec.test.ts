/** container-spec.ts, pure: how instances, one-off runs and services are locked down, and what else they carry. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instanceSpec } from '../contract-helpers.test-support.ts';
import type { AccessorySpec, OneOffSpec } from '../driver.ts';
import { containerSecurity, instanceContainer, oneOffContainer, READ_ONLY_TMPFS, secretNames } from './container-spec.ts';
import { secretValues } from './inspect-info.ts';
import { inspectOf } from './inspect.test-support.ts';
import { fromGeneratedDockerfile, LABEL } from './names.ts';
import { serviceContainer } from './services.ts';

const where = { ownerId: 'own_test', network: 'berth_own_test_shop_production' };

test('containerSecurity: no-new-privileges always; every capability dropped for generated images; read-only root with a /tmp tmpfs on request', () => {
  const cases = [
    { security: { generatedImage: false }, want: { SecurityOpt: ['no-new-privileges:true'] } },
    { security: { generatedImage: true }, want: { SecurityOpt: ['no-new-privileges:true'], CapDrop: ['ALL'] } },
    { security: { generatedImage: false, readOnlyRoot: true }, want: { SecurityOpt: ['no-new-privileges:true'], ReadonlyRootfs: true, Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m,mode=1777' } } },
    {
      security: { generatedImage: true, readOnlyRoot: true },
      want: { SecurityOpt: ['no-new-privileges:true'], CapDrop: ['ALL'], ReadonlyRootfs: true, Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m,mode=1777' } },
    },
    { security: { generatedImage: true, readOnlyRoot: false }, want: { SecurityOpt: ['no-new-privileges:true'], CapDrop: ['ALL'] } },
  ];
  for (const { security, want } of cases) assert.deepEqual(containerSecurity(security), want, JSON.stringify(security));
  // Each container gets its own copy: one spec changed later cannot change another's.
  assert.notEqual(containerSecurity({ generatedImage: false, readOnlyRoot: true }).Tmpfs, READ_ONLY_TMPFS);
});

test('an instance of a generated image: no capabilities, no new privileges, writable root unless read_only', () => {
  const body = instanceContainer(instanceSpec('sha256:abc', { app: 'shop', env: { A: '1' } }), { ...where, generatedImage: true });
  assert.deepEqual(body.HostConfig?.SecurityOpt, ['no-new-privileges:true']);
  assert.deepEqual(body.HostConfig?.CapDrop, ['ALL']);
  assert.equal(body.HostConfig?.ReadonlyRootfs, undefined);
  assert.equal(body.HostConfig?.Tmpfs, undefined);
  // What the lock-down must not change: berth supervises, tini is PID 1, the app listens on its port.
  assert.deepEqual(body.HostConfig?.RestartPolicy, { Name: 'no' });
  assert.equal(body.HostConfig?.Init, true);
  assert.equal(body.HostConfig?.NetworkMode, where.network);
  assert.deepEqual(body.ExposedPorts, { '3000/tcp': {} });
  assert.ok(body.Env?.includes('PORT=3000') && body.Env.includes('A=1'));

  const readOnly = instanceContainer(instanceSpec('sha256:abc', { app: 'shop', readOnlyRoot: true }), { ...where, generatedImage: true });
  assert.equal(readOnly.HostConfig?.ReadonlyRootfs, true);
  assert.deepEqual(readOnly.HostConfig?.Tmpfs, { '/tmp': 'rw,nosuid,nodev,size=64m,mode=1777' });
  assert.deepEqual(readOnly.HostConfig?.CapDrop, ['ALL']);
});

test('an instance of the app\'s own Dockerfile keeps the engine\'s capabilities, and still gains no privileges', () => {
  const body = instanceContainer(instanceSpec('sha256:own', { command: '', readOnlyRoot: true }), { ...where, generatedImage: false });
  assert.deepEqual(body.HostConfig?.SecurityOpt, ['no-new-privileges:true']);
  assert.equal(body.HostConfig?.CapDrop, undefined);
  assert.equal(body.HostConfig?.ReadonlyRootfs, true, 'read_only applies to any image');
});

test('a static site runs berth\'s static server, locked down like any generated image', () => {
  const body = instanceContainer(instanceSpec('sha256:site', { staticRoot: 'public', command: '' }), { ...where, generatedImage: true });
  assert.deepEqual(body.Cmd, ['node', '.berth-build/static-server.js', 'public']);
  assert.deepEqual(body.HostConfig?.CapDrop, ['ALL']);
});

test('a one-off run: no new privileges; no capabilities for a generated image; its root stays writable', () => {
  const spec: OneOffSpec = {
    id: 'run_1', app: 'shop', release: 'v1', artifact: 'sha256:abc', command: 'node migrate.js', env: {}, secrets: [], timeoutMs: 1000,
    signal: new AbortController().signal, onLine: () => {},
  };
  const generated = oneOffContainer(spec, { ...where, generatedImage: true });
  assert.deepEqual(generated.HostConfig?.SecurityOpt, ['no-new-privileges:true']);
  assert.deepEqual(generated.HostConfig?.CapDrop, ['ALL']);
  assert.equal(generated.HostConfig?.ReadonlyRootfs, undefined);
  const own = oneOffContainer(spec, { ...where, generatedImage: false });
  assert.deepEqual(own.HostConfig?.SecurityOpt, ['no-new-privileges:true']);
  assert.equal(own.HostConfig?.CapDrop, undefined);
});

test('a service keeps the capabilities its image needs, and gains no privileges', () => {
  const spec: AccessorySpec = { app: 'shop', name: 'redis', image: 'redis:7', env: {}, volumes: { data: '/data' } };
  const body = serviceContainer(spec, where);
  assert.deepEqual(body.HostConfig?.SecurityOpt, ['no-new-privileges:true']);
  assert.equal(body.HostConfig?.CapDrop, undefined);
  assert.equal(body.HostConfig?.ReadonlyRootfs, undefined);
});

test('only an image labelled as built from berth\'s Dockerfile counts as generated', () => {
  assert.equal(fromGeneratedDockerfile({ [LABEL.dockerfile]: 'generated' }), true);
  assert.equal(fromGeneratedDockerfile({ [LABEL.dockerfile]: 'own' }), false);
  // Images of builds made before the label existed, and images berth did not build.
  assert.equal(fromGeneratedDockerfile({}), false);
  assert.equal(fromGeneratedDockerfile(null), false);
  assert.equal(fromGeneratedDockerfile(undefined), false);
});

test('the secrets label says where each secret is, whole value or inside one, never the value; secretValues reads them back', () => {
  const password = 'p@ss w0rd';
  const encoded = encodeURIComponent(password);
  const env = { API_KEY: 'sk-123456', DATABASE_URL: `postgres://app:${encoded}@db:5432/shop`, PLAIN: 'hello' };
  const places = secretNames(env, ['sk-123456', password, encoded]);
  assert.deepEqual(places, ['API_KEY', `DATABASE_URL@${'postgres://app:'.length}:${'postgres://app:'.length + encoded.length}`]);
  assert.ok(!places.join(',').includes('sk-') && !places.join(',').includes('w0rd'), 'no secret in the label');
  const inspect = inspectOf({ labels: { [LABEL.secretNames]: places.join(',') } });
  inspect.Config.Env = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  assert.deepEqual(secretValues(inspect).sort(), ['sk-123456', encoded, password].sort(), 'the password inside the URL, as written there and decoded');
  // A label written before offsets existed names whole values only, and still reads.
  inspect.Config.Labels[LABEL.secretNames] = 'API_KEY';
  assert.deepEqual(secretValues(inspect), ['sk-123456']);
});

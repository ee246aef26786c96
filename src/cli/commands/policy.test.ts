/**
 * `berth policy list|check` through main() against the real control API (listening on 127.0.0.1:0, over
 * the deploy kit and real policy files): tables, verdicts, exit codes, --json, the app of the folder.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startApi, type TestApi } from '../../api/inject.test-support.ts';
import { writeDefaultPolicies } from '../../policy/defaults.ts';
import { PolicyGate } from '../../policy/gate.ts';
import { testIo, withTempDir, type TestIo } from '../cli.test-support.ts';
import { main } from '../main.ts';

let api: TestApi;
let url: string;
let dir: string;
let diskFreeBytes = 30 * 1024 ** 3;
before(async () => {
  api = await startApi();
  dir = join(api.kit.dir, 'policies');
  writeDefaultPolicies(dir);
  api.kit.ctx.policies = new PolicyGate({ dir, dataDir: api.kit.dir, host: () => ({ diskFreeBytes, load1: 0.5, memoryFreeBytes: 1e9, memoryTotalBytes: 2e9, cores: 2 }) });
  await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  await api.deploy('shop', 'name: shop\nhealth:\n  path: /health\n  interval: 100ms\n  deadline: 2s\npolicies:\n  - name: one-web\n    expr: release.processes["web"] >= 1\n    message: web must run\n');
});
after(async () => {
  api.server.close();
  await api.close();
});

async function berth(argv: string[], folder?: string): Promise<{ code: number; io: TestIo }> {
  return withTempDir(async (home) => {
    if (folder !== undefined) writeFileSync(join(home, 'berth.yaml'), folder);
    const io = testIo({ env: { BERTH_URL: url, BERTH_TOKEN: api.token, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), BERTH_DATA: join(home, 'data'), NO_COLOR: '1' }, cwd: home });
    return { code: await main(argv, io), io };
  });
}

test('list: the server\'s policies with file and line; with --app or in the app\'s folder, its own too', async () => {
  const server = await berth(['policy', 'list']);
  assert.equal(server.code, 0, server.io.stderr.text);
  assert.match(server.io.stdout.text, /^NAME +WHEN +SCOPE +SOURCE +EXPR/);
  assert.match(server.io.stdout.text, /disk-free +deploy +server +policies\/defaults\.yaml:9 +host\.diskFreeBytes >= 1073741824/);
  assert.doesNotMatch(server.io.stdout.text, /one-web/);
  const flag = await berth(['policy', 'list', '--app', 'shop']);
  assert.match(flag.io.stdout.text, /one-web +deploy +app +berth\.yaml +release\.processes\["web"\] >= 1/);
  const folder = await berth(['policy', 'list'], 'name: shop\n');
  assert.match(folder.io.stdout.text, /one-web/);
  const fresh = await berth(['policy', 'list'], 'name: newapp\n');
  assert.equal(fresh.code, 0, fresh.io.stderr.text);
  assert.match(fresh.io.stderr.text, /newapp is not deployed yet/);
  assert.match(fresh.io.stdout.text, /disk-free/);
  const json = await berth(['policy', 'list', '--json']);
  assert.equal(JSON.parse(json.io.stdout.text).policies.length, 6);
});

test('check: each verdict, exit 0 when allowed and 1 when a policy denies', async () => {
  const ok = await berth(['policy', 'check', 'shop']);
  assert.equal(ok.code, 0, ok.io.stderr.text);
  assert.match(ok.io.stdout.text, /✔ allowed disk-free \(policies\/defaults\.yaml:9\)\n {4}host\.diskFreeBytes=32212254720\n/);
  assert.match(ok.io.stdout.text, /✔ allowed one-web \(berth\.yaml\)/);
  assert.match(ok.io.stdout.text, /shop v1: a deploy would be allowed now\n$/);
  diskFreeBytes = 500 * 1024 ** 2;
  try {
    const denied = await berth(['policy', 'check', 'shop']);
    assert.equal(denied.code, 1);
    assert.match(denied.io.stdout.text, /✖ denied  disk-free \(policies\/defaults\.yaml:9\): less than 1 GiB free/);
    assert.match(denied.io.stdout.text, /shop v1: a deploy would be refused now \(1 denied\)\n$/);
    const json = await berth(['policy', 'check', 'shop', '--json']);
    assert.equal(json.code, 1);
    assert.equal(JSON.parse(json.io.stdout.text).allowed, false);
  } finally {
    diskFreeBytes = 30 * 1024 ** 3;
  }
});

test('a policy file that does not load: listed with file, line and problem; both commands exit 1', async () => {
  writeFileSync(join(dir, 'ops.yaml'), 'policies:\n  - name: mem\n    when: deploy\n    expr: host.memoryFree > 0\n    message: m\n');
  try {
    const listed = await berth(['policy', 'list']);
    assert.equal(listed.code, 1);
    assert.match(listed.io.stdout.text, /1 policy does not load; deploys are refused until fixed:\n {2}policies\/ops\.yaml:2: policy "mem": unknown fact "host\.memoryFree" \(column 1\)/);
    assert.equal((await berth(['policy', 'check', 'shop'])).code, 1);
  } finally {
    writeFileSync(join(dir, 'ops.yaml'), '');
  }
});

test('errors: an unknown app', async () => {
  const missing = await berth(['policy', 'check', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.io.stderr.text, /^error: app "nope" does not exist\n/);
});

test('`berth deploy` shows each verdict: a plain line, and the live block\'s active step', async () => {
  const { applyEvent, newProgress, plainLines } = await import('../progress.ts');
  const event = { seq: 7, at: new Date().toISOString(), app: 'shop', deploymentId: 'dep_1', type: 'policy.verdict', message: 'policy disk-free: denied: less than 1 GiB free', data: { policy: 'disk-free', when: 'deploy', allowed: false, reason: 'less than 1 GiB free', source: 'policies/defaults.yaml:9', facts: {} } } as const;
  assert.deepEqual(plainLines(event as never), ['policy disk-free: denied: less than 1 GiB free']);
  const building = applyEvent(newProgress({ upload: false, now: 0 }), { ...event, type: 'deploy.state', message: 'building', data: { state: 'building' } } as never, 1);
  const shown = applyEvent(building, event as never, 2);
  assert.equal(shown.steps.find((s) => s.name === 'build')!.detail, 'policy disk-free: denied: less than 1 GiB free');
});

/**
 * The daemon never loads CEL (./engine.ts: its policy worker process does): a real daemon, started with
 * a preload that records every module its process resolves, deploys an app whose berth.yaml has a policy
 * (checked at upload, judged by the deploy's gate), answers `berth policy list` and `policy check`; the
 * daemon's record then holds the policy gate and not one @bufbuild module, in any of its threads. A
 * control run shows the same preload does record CEL where it is loaded, so the test cannot pass by
 * recording nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { appCopy, TestBerth } from '../../test/support/berth.ts';

const HOOK = pathToFileURL(join(import.meta.dirname, 'module-log.test-support.ts')).href;
const CEL = /\/node_modules\/@bufbuild\//;
const dir = mkdtempSync(join(tmpdir(), 'berth-module-log-'));
const log = join(dir, 'modules.log');
let berth: TestBerth | undefined;

/** The URLs one process resolved, in any of its threads. */
const resolved = (pid: number): string[] =>
  readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith(`${pid} `))
    .map((line) => line.split(' ')[2]!);

before(async () => {
  // Only the daemon's spawn sees these (TestBerth copies the environment when it spawns); the test's own
  // process and the CLI runs do not.
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${HOOK}`.trim();
  process.env.BERTH_TEST_MODULE_LOG = log;
  try {
    berth = await TestBerth.start();
  } finally {
    delete process.env.BERTH_TEST_MODULE_LOG;
    process.env.NODE_OPTIONS = process.env.NODE_OPTIONS.replace(`--import=${HOOK}`, '').trim();
    if (!process.env.NODE_OPTIONS) delete process.env.NODE_OPTIONS;
  }
});
after(async () => {
  await berth?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the control: the preload records @bufbuild/cel in a process that loads the compiler', () => {
  const control = join(dir, 'control.log');
  const run = spawnSync(process.execPath, [`--import=${HOOK}`, join(import.meta.dirname, 'compile.ts')], { env: { ...process.env, BERTH_TEST_MODULE_LOG: control }, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const urls = readFileSync(control, 'utf8').split('\n');
  assert.ok(urls.some((line) => CEL.test(line)), 'CEL is recorded where it is loaded');
});

test('a deploy judged by policies, policy list and policy check: the daemon loads no CEL', { timeout: 120_000 }, async () => {
  const manifest = 'name: gated\nhealth:\n  path: /health\n  interval: 200ms\npolicies:\n  - name: one-web\n    expr: release.processes["web"] >= 1\n    message: web must run\n';
  await berth!.deploy('gated', appCopy('versioned', { 'berth.yaml': manifest }));
  const events = (await berth!.api('GET', '/v1/apps/gated/events')).body;
  const text = JSON.stringify(events);
  assert.match(text, /policy one-web: allowed/, 'the app\'s policy was judged');
  assert.match(text, /policy disk-free: allowed/, 'and the server\'s defaults');
  const listed = await berth!.api('GET', '/v1/policies?app=gated');
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.problems, []);
  assert.ok(listed.body.policies.some((p: { name: string }) => p.name === 'one-web'));
  const checked = await berth!.api('GET', '/v1/apps/gated/policy-check');
  assert.equal(checked.status, 200);
  assert.equal(checked.body.allowed, true);

  const daemon = resolved(berth!.daemon!.pid!);
  assert.ok(daemon.some((url) => url.endsWith('/src/policy/gate.ts')), 'the record is the daemon\'s, with the policy gate in it');
  assert.ok(daemon.some((url) => url.endsWith('/src/server/start.ts')));
  assert.deepEqual(daemon.filter((url) => CEL.test(url) || /\/src\/policy\/(compile|evaluate|cel-types|worker)\.ts$/.test(url)), []);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isBerthError } from '../../errors/catalogue.ts';
import { writeFiles } from '../contract-fixtures.test-support.ts';
import { getJsonWhenUp, instanceSpec, recordEvents, waitFor, within } from '../contract-helpers.test-support.ts';
import { runDriverContract } from '../driver-contract.test-support.ts';
import type { DriverEvent } from '../driver.ts';
import { BUILD_MARKER, layoutFor } from './layout.ts';
import { writeState } from './state-file.ts';
import { findOwnedProcesses } from './owned.ts';
import { isSameProcessAlive, readStat } from '../../lib/proc.ts';
import { processHarness, type ProcessHarness } from './harness.test-support.ts';

runDriverContract('process', processHarness);

const withHarness = async (body: (h: ProcessHarness) => Promise<void>) => {
  const h = await processHarness();
  try {
    await body(h);
  } finally {
    await h.cleanup();
  }
};

/** Starts a process that carries this owner's marker, as a daemon killed mid-spawn or mid-build would leave. */
function spawnMarked(h: ProcessHarness, env: Record<string, string>, script = 'setInterval(() => {}, 1000)') {
  const child = spawn(process.execPath, ['-e', script], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '', BERTH_OWNER: h.ownerId, ...env },
  });
  child.unref();
  assert.ok(child.pid);
  return child.pid;
}

test('process: list() reports an orphan found by its environment, and stop() kills its group', { timeout: 20_000 }, () =>
  withHarness(async (h) => {
    const pid = spawnMarked(h, { BERTH_INSTANCE: 'ins_orphan1', BERTH_APP: 'shop', BERTH_RELEASE: 'r7', BERTH_PROCESS: 'web' });
    const started = readStat(pid)!.startTime;
    const orphan = await waitFor(async () => (await h.driver.list()).find((i) => i.id === 'ins_orphan1'), {
      timeoutMs: 5_000,
      what: 'the orphan in list()',
    });
    assert.deepEqual([orphan.app, orphan.release, orphan.process, orphan.state, orphan.pid], ['shop', 'r7', 'web', 'running', pid]);
    assert.equal(orphan.detail?.orphan, 'true');
    assert.equal((await h.driver.inspect('ins_orphan1')).state, 'running');
    await within(h.driver.stop('ins_orphan1'), 5_000, 'stop of the orphan');
    assert.equal(isSameProcessAlive(pid, started), false, 'the orphan is gone (at most a zombie our test process has yet to reap)');
    assert.ok(!(await h.driver.list()).some((i) => i.id === 'ins_orphan1'));
  }),
);

test('process: adopt() kills a leftover build group and removes interrupted build directories', { timeout: 20_000 }, () =>
  withHarness(async (h) => {
    // A build step (sh) with a child, both in the step's own group, like `npm ci` running a postinstall.
    const leader = spawnMarked(h, { BERTH_BUILD: 'bld_interrupted' }, `require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); setInterval(() => {}, 1000)`);
    const leaderStart = readStat(leader)!.startTime;
    await waitFor(() => findOwnedProcesses(h.ownerId).length === 2 || undefined, { timeoutMs: 5_000, what: 'the build step and its child' });
    const partial = join(h.root, 'builds', 'bld_interrupted.partial');
    mkdirSync(partial, { recursive: true });
    const kept = join(h.root, 'builds', 'bld_done');
    mkdirSync(kept, { recursive: true });
    const driver = await h.restartDriver();
    await driver.adopt();
    assert.deepEqual(findOwnedProcesses(h.ownerId), [], 'no build process of this owner is left');
    assert.equal(isSameProcessAlive(leader, leaderStart), false);
    assert.equal(existsSync(partial), false, 'the .partial directory is removed');
    assert.equal(existsSync(kept), true, 'finished builds are kept');
  }),
);

test('process: a build with a lockfile installs deps with npm ci, builds with dev tools on PATH, prunes dev deps', { timeout: 60_000 }, () =>
  withHarness(async (h) => {
    const source = await h.sourceFor('echo');
    await writeFiles(source, {
      'package.json': JSON.stringify({
        name: 'deps-app',
        version: '1.0.0',
        private: true,
        dependencies: { tiny: 'file:vendor/tiny' },
        devDependencies: { devtiny: 'file:vendor/devtiny' },
        scripts: { build: 'devtiny-gen', start: 'node server.js' },
      }),
      'package-lock.json': JSON.stringify(depsLockfile),
      'vendor/tiny/package.json': JSON.stringify({ name: 'tiny', version: '1.0.0', main: 'index.js' }),
      'vendor/tiny/index.js': 'module.exports = "tiny-ok";\n',
      'vendor/devtiny/package.json': JSON.stringify({ name: 'devtiny', version: '1.0.0', bin: { 'devtiny-gen': 'gen.js' } }),
      'vendor/devtiny/gen.js': '#!/usr/bin/env node\nrequire("fs").writeFileSync("generated.txt", require("tiny") + "\\n");\n',
      'server.js': `require('node:http').createServer((req, res) => res.end(JSON.stringify({ version: require('tiny'), env: {} }))).listen(Number(process.env.PORT), '127.0.0.1');\n`,
    });
    const lines: string[] = [];
    const built = await h.driver.build({
      app: 'deps',
      buildId: 'bld_deps1',
      sourceDir: source,
      env: { npm_config_offline: 'true' },
      signal: new AbortController().signal,
      log: (line) => lines.push(line),
    });
    assert.equal(built.artifact, join(h.root, 'builds', 'bld_deps1'));
    assert.equal(existsSync(source), false, 'the source was moved into the build');
    assert.ok(lines.includes('$ npm ci --no-audit --no-fund'), JSON.stringify(lines));
    assert.ok(lines.includes('$ npm run build'));
    assert.ok(lines.includes('$ npm prune --omit=dev --no-audit --no-fund'));
    assert.equal(readFileSync(join(built.artifact, 'generated.txt'), 'utf8'), 'tiny-ok\n', 'the dev tool ran from node_modules/.bin');
    assert.equal(existsSync(join(built.artifact, 'node_modules', 'tiny')), true);
    assert.equal(existsSync(join(built.artifact, 'node_modules', 'devtiny')), false, 'dev dependencies are pruned');
    const marker = JSON.parse(readFileSync(join(built.artifact, BUILD_MARKER), 'utf8'));
    assert.equal(marker.inferredCommand, 'node server.js');

    const info = await h.driver.start({
      id: 'ins_deps1',
      app: 'deps',
      release: 'r1',
      process: 'web',
      artifact: built.artifact,
      command: built.inferredCommand!,
      env: {},
      port: true,
      restart: { maxRestarts: 1, windowMs: 1_000, backoffMs: 100, maxBackoffMs: 100 },
      stopTimeoutMs: 1_000,
      secrets: [],
    });
    assert.equal((await getJsonWhenUp<{ version: string }>(info.address!, '/', 10_000)).version, 'tiny-ok');
    await h.driver.stop('ins_deps1');
  }),
);

test('process: aborting a build kills its process group and leaves no directory behind', { timeout: 20_000 }, () =>
  withHarness(async (h) => {
    const source = await h.sourceFor('echo');
    const controller = new AbortController();
    const lines: string[] = [];
    const building = h.driver.build({
      app: 'slow',
      buildId: 'bld_slow1',
      sourceDir: source,
      command: 'echo started; sleep 30 & sleep 30',
      signal: controller.signal,
      log: (line) => lines.push(line),
    });
    await waitFor(() => lines.includes('started') || undefined, { timeoutMs: 5_000, what: 'the build to start' });
    assert.ok(findOwnedProcesses(h.ownerId).some((p) => p.build === 'bld_slow1'), 'the build step carries the owner marker');
    controller.abort(new Error('deploy cancelled'));
    await assert.rejects(within(building, 5_000, 'the aborted build to reject'), /deploy cancelled/);
    assert.deepEqual(findOwnedProcesses(h.ownerId), []);
    assert.deepEqual(await h.artifacts(), []);
  }),
);

test('process: the state file records pid, start time and spec (env sealed), privately, and goes away on stop', { timeout: 20_000 }, () =>
  withHarness(async (h) => {
    const built = await h.driver.build({ app: 'a', buildId: 'bld_s1', sourceDir: await h.sourceFor('echo'), signal: new AbortController().signal, log: () => {} });
    const spec = {
      id: 'ins_state1',
      app: 'a',
      release: 'r1',
      process: 'web',
      artifact: built.artifact,
      command: 'node server.js',
      env: { SECRET_TOKEN: 'abcd1234' },
      port: true,
      restart: { maxRestarts: 1, windowMs: 1_000, backoffMs: 100, maxBackoffMs: 100 },
      stopTimeoutMs: 1_000,
      secrets: ['abcd1234'],
    };
    const info = await h.driver.start(spec);
    const file = join(h.root, 'instances', 'ins_state1.json');
    const state = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(state.pid, info.pid);
    assert.equal(state.startTime, readStat(info.pid!)!.startTime);
    assert.equal(state.port, info.address!.port);
    const { env, secrets, sealed, ...rest } = state.spec;
    const { env: _env, secrets: _secrets, ...expected } = spec;
    assert.deepEqual(rest, expected);
    assert.deepEqual([env, secrets], [{}, []], 'env and secrets are not in the clear');
    assert.ok(!readFileSync(file, 'utf8').includes('abcd1234'), 'the secret value is sealed');
    assert.equal(typeof sealed, 'string');
    assert.deepEqual((await h.driver.inspect('ins_state1')).state, 'running');
    assert.equal(isSameProcessAlive(state.pid, state.startTime + 1), false, 'another start time is another process');
    assert.equal(readStat(info.pid!)!.pgrp, info.pid, 'the instance leads its own process group');
    await h.driver.stop('ins_state1');
    assert.equal(existsSync(file), false);
  }),
);

test('process: a command with shell syntax runs through sh and is still stopped whole', { timeout: 20_000 }, () =>
  withHarness(async (h) => {
    const built = await h.driver.build({ app: 'a', buildId: 'bld_sh1', sourceDir: await h.sourceFor('echo'), signal: new AbortController().signal, log: () => {} });
    const info = await h.driver.start({
      id: 'ins_sh1',
      app: 'a',
      release: 'r1',
      process: 'web',
      artifact: built.artifact,
      command: 'GREETING=from-shell node server.js | cat',
      env: {},
      port: true,
      restart: { maxRestarts: 1, windowMs: 1_000, backoffMs: 100, maxBackoffMs: 100 },
      stopTimeoutMs: 1_000,
      secrets: [],
    });
    const body = await getJsonWhenUp(info.address!, '/', 10_000);
    assert.equal(body.env.GREETING, 'from-shell');
    assert.ok(findOwnedProcesses(h.ownerId).length >= 3, 'sh, node and cat all carry the marker');
    await h.driver.stop('ins_sh1');
    assert.deepEqual(findOwnedProcesses(h.ownerId), []);
  }),
);

test('process: start rejects unusable specs with START_FAILED', { timeout: 10_000 }, () =>
  withHarness(async (h) => {
    const base = {
      id: 'ins_bad1',
      app: 'a',
      release: 'r1',
      process: 'web',
      artifact: join(h.root, 'builds', 'nope'),
      command: 'node server.js',
      env: {},
      port: false,
      restart: { maxRestarts: 1, windowMs: 1_000, backoffMs: 100, maxBackoffMs: 100 },
      stopTimeoutMs: 1_000,
      secrets: [],
    };
    const startFailed = (pattern: RegExp) => (error: unknown) => isBerthError(error) && error.code === 'START_FAILED' && pattern.test(error.message);
    await assert.rejects(h.driver.start(base), startFailed(/does not exist/));
    await assert.rejects(h.driver.start({ ...base, id: '../escape' }), startFailed(/not usable as a file name/));
    const built = await h.driver.build({ app: 'a', buildId: 'bld_b1', sourceDir: await h.sourceFor('echo'), signal: new AbortController().signal, log: () => {} });
    await assert.rejects(h.driver.start({ ...base, artifact: built.artifact, command: 'no-such-binary-xyz --flag' }), startFailed(/no-such-binary-xyz/));
    assert.equal((await h.driver.inspect('ins_bad1')).state, 'missing');
  }),
);

test('process: adopt() of an instance that was mid-restart kills the stray a dead daemon spawned, so no twin runs', { timeout: 20_000 }, () =>
  withHarness(async (h) => {
    const built = await h.driver.build({ app: 'a', buildId: 'bld_tw1', sourceDir: await h.sourceFor('echo'), signal: new AbortController().signal, log: () => {} });
    const spec = instanceSpec(built.artifact, { id: 'ins_twin1', app: 'a', restart: { maxRestarts: 3, windowMs: 60_000, backoffMs: 50, maxBackoffMs: 50 }, stopTimeoutMs: 1_000 });
    // The daemon recorded "restarting", spawned the new process, and died before recording its pid.
    writeState(layoutFor(h.root), { version: 1, spec, state: 'restarting', pid: null, startTime: null, port: null, restarts: 1, crashes: [Date.now()], restartAt: Date.now(), startedAt: Date.now() });
    const stray = spawnMarked(h, { BERTH_INSTANCE: 'ins_twin1' });
    const strayStart = readStat(stray)!.startTime;
    const driver = await h.restartDriver();
    const recorder = recordEvents(driver);
    await driver.adopt();
    const back = await recorder.waitFor((e: DriverEvent): e is Extract<DriverEvent, { type: 'restarted' }> => e.type === 'restarted' && e.id === 'ins_twin1', 5_000, 'the restart');
    await getJsonWhenUp(back.address!, '/', 10_000);
    assert.equal(isSameProcessAlive(stray, strayStart), false, 'the stray is gone');
    const groups = new Set(findOwnedProcesses(h.ownerId).filter((p) => p.instance === 'ins_twin1').map((p) => p.pgrp));
    assert.deepEqual([...groups], [(await driver.inspect('ins_twin1')).pid], 'exactly one generation runs');
    assert.equal(back.restarts, 2);
    await driver.stop('ins_twin1');
    recorder.stop();
  }),
);

const depsLockfile = {
  name: 'deps-app',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'deps-app', version: '1.0.0', dependencies: { tiny: 'file:vendor/tiny' }, devDependencies: { devtiny: 'file:vendor/devtiny' } },
    'node_modules/devtiny': { resolved: 'vendor/devtiny', link: true },
    'node_modules/tiny': { resolved: 'vendor/tiny', link: true },
    'vendor/devtiny': { version: '1.0.0', dev: true, bin: { 'devtiny-gen': 'gen.js' } },
    'vendor/tiny': { version: '1.0.0' },
  },
};

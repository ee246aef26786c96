import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../lib/clock.ts';
import { writeFiles, writeFixture } from '../contract-fixtures.test-support.ts';
import { runDriverContract, type ContractHarness } from '../driver-contract.test-support.ts';
import type { RuntimeDriver } from '../driver.ts';
import { connectionRefused, getJsonWhenUp, httpGet, instanceSpec, recordEvents } from '../contract-helpers.test-support.ts';
import { createFakeDriver } from './driver.ts';
import { crashFakeInstance, createFakeState, fakeArtifacts } from './state.ts';

async function fakeHarness(): Promise<ContractHarness> {
  const state = createFakeState();
  const sources = await mkdtemp(join(tmpdir(), 'berth-fake-src-'));
  let driver: RuntimeDriver = createFakeDriver({ state });
  return {
    get driver() {
      return driver;
    },
    async sourceFor(fixture) {
      const dir = await mkdtemp(join(sources, `${fixture}-`));
      await writeFixture(fixture, dir);
      return dir;
    },
    async restartDriver() {
      await driver.close();
      driver = createFakeDriver({ state });
      return driver;
    },
    crash: (id) => crashFakeInstance(state, id),
    artifacts: async () => fakeArtifacts(state),
    async cleanup() {
      const left = await driver.list();
      for (const info of left) await driver.stop(info.id);
      await driver.close();
      await rm(sources, { recursive: true, force: true });
      assert.equal(state.instances.size, 0, 'no fake instance is left');
    },
  };
}

runDriverContract('fake', fakeHarness);

test('fake: a ManualClock drives crashes, back-off and stop timeouts', { timeout: 10_000 }, async () => {
  const clock = new ManualClock(1_000_000);
  const driver = createFakeDriver({ clock });
  const dir = await mkdtemp(join(tmpdir(), 'berth-fake-src-'));
  try {
    await writeFixture('crash', dir);
    const built = await driver.build({ app: 'a', buildId: 'b1', sourceDir: dir, signal: new AbortController().signal, log: () => {} });
    const recorder = recordEvents(driver);
    const spec = instanceSpec(built.artifact, { app: 'a', restart: { maxRestarts: 1, windowMs: 60_000, backoffMs: 5_000, maxBackoffMs: 5_000 }, stopTimeoutMs: 10_000 });
    await driver.start(spec);
    await clock.advance(99);
    assert.equal(recorder.events.length, 0, 'nothing happens before crashAfterMs');
    await clock.advance(1);
    await waitTurns(() => recorder.events.length === 1);
    assert.deepEqual(recorder.events[0], { type: 'exited', id: spec.id, exit: { code: 3, signal: null, at: 1_000_100 }, willRestart: true, restarts: 0 });
    assert.equal((await driver.inspect(spec.id)).state, 'restarting');
    await clock.advance(4_999);
    assert.equal((await driver.inspect(spec.id)).state, 'restarting', 'still waiting out the back-off');
    await clock.advance(1);
    await waitTurns(() => recorder.events.length === 2);
    assert.equal(recorder.events[1].type, 'restarted');
    await clock.advance(100);
    await waitTurns(() => recorder.events.length === 4);
    assert.deepEqual(recorder.events.slice(2).map((e) => e.type), ['exited', 'crashloop']);
    await driver.stop(spec.id);
  } finally {
    await driver.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('fake: stop waits for stopTimeoutMs on the clock before SIGKILL; health can be scripted', { timeout: 10_000 }, async () => {
  const clock = new ManualClock(0);
  const driver = createFakeDriver({ clock });
  const dir = await mkdtemp(join(tmpdir(), 'berth-fake-src-'));
  try {
    await writeFiles(dir, { 'server.js': '', '.berth-fake.json': JSON.stringify({ ignoreSigterm: true, health: 'fail', version: 'v7' }) });
    const built = await driver.build({ app: 'a', buildId: 'b1', sourceDir: dir, signal: new AbortController().signal, log: () => {} });
    assert.equal(built.inferredCommand, 'node server.js');
    const started = await driver.start({
      id: 'i1',
      app: 'a',
      release: 'r1',
      process: 'web',
      artifact: built.artifact,
      command: 'node server.js',
      env: {},
      port: true,
      restart: { maxRestarts: 1, windowMs: 1, backoffMs: 1, maxBackoffMs: 1 },
      stopTimeoutMs: 1_000,
      secrets: [],
    });
    assert.ok(started.address);
    assert.equal((await httpGet(started.address, '/health')).status, 500);
    assert.equal((await getJsonWhenUp<{ version: string }>(started.address, '/', 2_000)).version, 'v7');
    let stopped = false;
    const stopping = driver.stop('i1').then(() => (stopped = true));
    await clock.advance(999);
    assert.equal(stopped, false, 'SIGTERM is ignored until the timeout');
    await clock.advance(1);
    await stopping;
    assert.equal(await connectionRefused(started.address), true);
  } finally {
    await driver.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** Lets promise chains settle; fails if the condition does not come true within a few hundred turns. */
async function waitTurns(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  assert.fail('condition did not come true');
}

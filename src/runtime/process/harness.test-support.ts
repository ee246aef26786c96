/**
 * The contract harness for the process driver, shared by its test files: a temporary root, a random
 * ownerId per harness, and a cleanup that fails when any process carrying that ownerId is still alive.
 * Run as root (CI, this machine), the driver runs apps as users of their own: the temporary directory is
 * opened for them to pass through, as DATA is, and the cleanup deletes the users the harness made.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { silentLogger } from '../../lib/log.ts';
import { createSealer } from '../../secrets/sealer.ts';
import { writeFixture } from '../contract-fixtures.test-support.ts';
import { waitFor } from '../contract-helpers.test-support.ts';
import type { ContractHarness } from '../driver-contract.test-support.ts';
import type { RuntimeDriver } from '../driver.ts';
import { removeAppUsers } from './app-users.ts';
import { createProcessDriver, type ProcessDriverOptions } from './driver.ts';
import { layoutFor } from './layout.ts';
import { findOwnedProcesses } from './owned.ts';
import { isSameProcessAlive, signalGroup } from '../../lib/proc.ts';
import { readState } from './state-file.ts';

export interface ProcessHarness extends ContractHarness {
  root: string;
  ownerId: string;
  /** A driver over the same root and owner, as a restarted daemon would make. */
  makeDriver(): RuntimeDriver;
  /** Fails the test if a process of this owner is alive (after killing it, so nothing leaks). */
  assertNoProcessesLeft(): Promise<void>;
}

export async function processHarness(overrides: Partial<ProcessDriverOptions> = {}): Promise<ProcessHarness> {
  const base = await mkdtemp(join(tmpdir(), 'berth-proc-'));
  await chmod(base, 0o711);
  const root = join(base, 'runtime');
  const ownerId = `test-${randomBytes(6).toString('hex')}`;
  // As in the daemon, state files seal env and secrets.
  const box = createSealer(randomBytes(32));
  const makeDriver = () =>
    createProcessDriver({ root, ownerId, log: silentLogger, box, binPath: [dirname(process.execPath)], orphanStopTimeoutMs: 2_000, ...overrides });
  let driver = makeDriver();

  const assertNoProcessesLeft = async () => {
    const left = await waitFor(() => findOwnedProcesses(ownerId).length === 0 || undefined, { timeoutMs: 2_000, what: 'no owned processes' }).catch(
      () => findOwnedProcesses(ownerId),
    );
    if (left === true) return;
    for (const p of left) signalGroup(p.pgrp, 'SIGKILL');
    assert.fail(`processes of ${ownerId} left running: ${JSON.stringify(left)}`);
  };

  return {
    root,
    ownerId,
    makeDriver,
    assertNoProcessesLeft,
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
      driver = makeDriver();
      return driver;
    },
    async crash(id) {
      const state = readState(layoutFor(root, box), id);
      assert.ok(state?.pid, `instance ${id} has a pid to kill`);
      process.kill(state.pid, 'SIGKILL');
      await waitFor(() => !isSameProcessAlive(state.pid!, state.startTime), { timeoutMs: 5_000, what: `pid ${state.pid} to die` });
    },
    async artifacts() {
      try {
        return (await readdir(join(root, 'builds'))).sort();
      } catch {
        return [];
      }
    },
    async cleanup() {
      try {
        for (const info of await driver.list()) await driver.stop(info.id);
        await driver.close();
        await assertNoProcessesLeft();
      } finally {
        await removeAppUsers({ ownerId, homes: layoutFor(root).homes, log: silentLogger });
        await rm(base, { recursive: true, force: true });
      }
    },
  };
}

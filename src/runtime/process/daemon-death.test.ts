/**
 * The real daemon-restart case, which the contract can only simulate in one process: a separate daemon
 * process starts instances and is killed with SIGKILL; the instances keep running (no longer our
 * children), and a new driver adopts them, collects what they wrote meanwhile, and supervises them by
 * polling pid + start time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { connectionRefused, getJsonWhenUp, readLogs, recordEvents, waitFor, within } from '../contract-helpers.test-support.ts';
import type { DriverEvent, InstanceInfo } from '../driver.ts';
import { processHarness } from './harness.test-support.ts';

const daemonScript = (driverUrl: string) => `
import { dirname } from 'node:path';
import { createProcessDriver } from ${JSON.stringify(driverUrl)};
const [root, ownerId, echoArtifact, workerArtifact] = process.argv.slice(2);
const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };
const driver = createProcessDriver({ root, ownerId, log: silent, binPath: [dirname(process.execPath)] });
const restart = { maxRestarts: 3, windowMs: 60000, backoffMs: 50, maxBackoffMs: 200 };
const base = { app: 'dd', release: 'r1', env: {}, restart, stopTimeoutMs: 1000, secrets: ['s3cret-token'] };
const echo = await driver.start({ ...base, id: 'ins_dd_echo', process: 'web', artifact: echoArtifact, command: 'node server.js', port: true, env: { SECRET_TOKEN: 's3cret-token' } });
const worker = await driver.start({ ...base, id: 'ins_dd_worker', process: 'worker', artifact: workerArtifact, command: 'node worker.js', port: false });
console.log(JSON.stringify({ echo, worker }));
setInterval(() => {}, 1000);
`;

test('process: instances outlive a SIGKILLed daemon and are adopted, collected and supervised by a new one', { timeout: 60_000 }, async () => {
  const h = await processHarness();
  try {
    const build = async (fixture: 'echo' | 'worker') =>
      h.driver.build({ app: 'dd', buildId: `bld_dd_${fixture}`, sourceDir: await h.sourceFor(fixture), signal: new AbortController().signal, log: () => {} });
    const echoBuild = await build('echo');
    const workerBuild = await build('worker');
    await h.driver.close();

    const script = join(h.root, 'daemon.mjs');
    writeFileSync(script, daemonScript(pathToFileURL(join(import.meta.dirname, 'driver.ts')).href));
    const daemon = spawn(process.execPath, [script, h.root, h.ownerId, echoBuild.artifact, workerBuild.artifact], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => daemon.once('exit', resolve));
    const first = await within(
      new Promise<string>((resolve) => createInterface({ input: daemon.stdout! }).once('line', resolve)),
      15_000,
      'the daemon to start its instances',
    );
    const started = JSON.parse(first) as { echo: InstanceInfo; worker: InstanceInfo };
    daemon.kill('SIGKILL');
    await within(exited, 5_000, 'the daemon to die');

    // Nobody supervises or collects now; the instances run on and keep writing to their files.
    const address = started.echo.address!;
    assert.equal((await getJsonWhenUp(address, '/', 5_000)).env.BERTH_INSTANCE, 'ins_dd_echo');
    await new Promise((r) => setTimeout(r, 400));

    const driver = await h.restartDriver();
    const recorder = recordEvents(driver);
    const adopted = await driver.adopt();
    for (const id of ['ins_dd_echo', 'ins_dd_worker']) {
      const info = adopted.find((i) => i.id === id);
      assert.equal(info?.state, 'running', `${id} is adopted as running`);
      assert.equal(info?.detail?.supervision, 'poll', 'adopted processes are not our children: watched by polling');
    }
    const echoLines = await readLogs(driver, 'ins_dd_echo');
    assert.ok(echoLines.some((l) => l.line === 'echo: warming up with token ***'), JSON.stringify(echoLines));
    assert.ok(echoLines.every((l) => !l.line.includes('s3cret-token')));
    const ticks = await waitFor(
      async () => {
        const lines = await readLogs(driver, 'ins_dd_worker');
        return lines.length >= 5 ? lines : undefined;
      },
      { timeoutMs: 5_000, what: 'worker lines written while no daemon ran' },
    );
    assert.deepEqual(ticks.slice(0, 5).map((l) => l.line), ['tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5'], 'nothing lost, nothing twice');

    await h.crash('ins_dd_echo');
    const exit = await recorder.waitFor(
      (e: DriverEvent): e is Extract<DriverEvent, { type: 'exited' }> => e.type === 'exited' && e.id === 'ins_dd_echo',
      5_000,
      'the poll to notice the crash',
    );
    assert.deepEqual([exit.exit.code, exit.willRestart], [null, true], 'the exit code of a process that is not our child is unknown');
    const back = await recorder.waitFor(
      (e: DriverEvent): e is Extract<DriverEvent, { type: 'restarted' }> => e.type === 'restarted' && e.id === 'ins_dd_echo',
      5_000,
      'the restart',
    );
    assert.deepEqual(back.address, address, 'restarted on its old port');
    await getJsonWhenUp(address, '/', 10_000);

    await driver.stop('ins_dd_echo');
    await driver.stop('ins_dd_worker');
    assert.equal(await connectionRefused(address), true);
    recorder.stop();
  } finally {
    await h.cleanup();
  }
});

/**
 * A real engine restart under a running docker driver. The engine restarted is a private dockerd this test
 * starts and stops itself, in a network namespace of its own (its docker0, bridges and iptables rules live
 * there) with its own socket, data root and exec root, so the shared engine and the host's network are
 * never touched. It needs root, dockerd, `ip` and `nsenter`: skipped visibly without them, failed instead
 * when BERTH_REQUIRE_DOCKER=1 (CI, where they are installed).
 *
 * Never run such a daemon in the host's network namespace: on start-up, dockerd deletes the host's
 * `docker0` when given `--bridge=none`, or when it clears its stale default network with
 * `default-address-pools` set, and its networks may overlap the shared engine's.
 *
 * What it shows: the engine stopping every container as it shuts down is not a crash (no crash loop, no
 * restart counted, even with a policy that allows none); berth starts the containers again once the engine
 * is back, and reports their new addresses, including one taken by a container the engine restarted first.
 * Addresses are probed from a container on the app's network (the host cannot reach that namespace).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerRequired } from '../../../test/support/docker.ts';
import { ensureBusyboxImage, ensureNodeImage } from '../../../test/support/docker-images.ts';
import { newId } from '../../lib/ids.ts';
import { silentLogger } from '../../lib/log.ts';
import { writeFixture } from '../contract-fixtures.test-support.ts';
import { instanceSpec, recordEvents, waitFor } from '../contract-helpers.test-support.ts';
import type { Address, DriverEvent, InstanceSpec } from '../driver.ts';
import { createDockerDriver } from './driver.ts';
import { createDockerEngine } from './engine-http.ts';
import { networkName } from './names.ts';

const which = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
const [dockerd, nsenter] = [which('dockerd'), which('nsenter')];
const missing =
  process.getuid?.() !== 0 ? 'restarting a private dockerd needs root' : !dockerd || !nsenter || !which('ip') ? 'dockerd, nsenter or ip is missing' : undefined;
const skip = missing !== undefined && !dockerRequired() ? `${missing} (set BERTH_REQUIRE_DOCKER=1 to fail instead)` : false;

const isType =
  <T extends DriverEvent['type']>(type: T, id: string) =>
  (e: DriverEvent): e is Extract<DriverEvent, { type: T }> =>
    e.type === type && e.id === id;

test('an engine restart under a running driver: no crash, no crash loop; instances come back and their new addresses are reported', { skip, timeout: 300_000 }, async () => {
  if (missing !== undefined) throw new Error(`BERTH_REQUIRE_DOCKER=1 but ${missing}: run as root with docker.io, iproute2 and util-linux installed (see .ci/run)`);
  const dir = await mkdtemp(join(tmpdir(), 'berth-dockerd-'));
  const daemon = privateDockerd(dir);
  try {
    await daemon.start();
    // The test images are made in the engine DOCKER_HOST names: the private one.
    process.env.DOCKER_HOST = `unix://${daemon.socket}`;
    const nodeImage = await ensureNodeImage();
    const busybox = await ensureBusyboxImage();
    const engine = createDockerEngine({ socketPath: daemon.socket });
    const ownerId = `test-${randomBytes(6).toString('hex')}`;
    const driver = createDockerDriver({ engine, ownerId, root: join(dir, 'berth'), log: silentLogger, nodeImage, build: { memoryBytes: 1024 ** 3, cpus: 1 } });
    try {
      const source = join(dir, 'src');
      await writeFixture('echo', source);
      const built = await driver.build({ app: 'steady', buildId: newId('bld'), sourceDir: source, signal: new AbortController().signal, log: () => {} });
      // No crash allowed: one counted crash is a crash loop.
      const spec = (): InstanceSpec =>
        instanceSpec(built.artifact, { app: 'steady', restart: { maxRestarts: 0, windowMs: 60_000, backoffMs: 100, maxBackoffMs: 100 }, stopTimeoutMs: 1_000 });
      const specs = [spec(), spec()];
      const before = new Map<string, string>();
      for (const s of specs) before.set(s.id, (await driver.start(s)).address!.host);
      // A container the engine itself starts again on boot (policy `always`), before berth can: it takes
      // the first free address of the app's network, which was one of the instances'. It probes them too.
      const squatter = await engine.createContainer(`squatter-${ownerId}`, {
        Image: busybox,
        Cmd: ['sleep', '600'],
        HostConfig: { NetworkMode: networkName(ownerId, 'steady'), RestartPolicy: { Name: 'always' } },
      });
      await engine.startContainer(squatter);
      const serves = (address: Address) =>
        waitFor(
          async () => {
            // No `-T`: busybox-static 1.35's wget crashes (SIGSEGV) with it; the exec timeout bounds the call.
            const { exitCode, output } = await engine.exec(squatter, ['wget', '-q', '-O', '-', `http://${address.host}:${address.port}/`], { timeoutMs: 5_000 });
            return exitCode === 0 && (JSON.parse(output) as { env: Record<string, string> }).env.BERTH_APP === 'steady';
          },
          { timeoutMs: 20_000, what: `http://${address.host}:${address.port}/ to answer from the app's network` },
        );
      for (const s of specs) await serves({ host: before.get(s.id)!, port: 3000 });
      const recorder = recordEvents(driver);

      await daemon.restart();

      // The deploy layer routes to the address of the last `restarted` event: it must become where the
      // instance runs now, and stay so.
      for (const s of specs) {
        const settled = await waitFor(
          async () => {
            const last = recorder.events.filter(isType('restarted', s.id)).at(-1);
            const now = await driver.inspect(s.id);
            return last?.address && now.state === 'running' && now.address?.host === last.address.host ? last.address : undefined;
          },
          { timeoutMs: 60_000, what: `${s.id} running where its last restarted event says` },
        );
        await serves(settled);
      }
      await new Promise((r) => setTimeout(r, 3_000));
      for (const s of specs) {
        const last = recorder.events.filter(isType('restarted', s.id)).at(-1)!;
        assert.deepEqual((await driver.inspect(s.id)).address, last.address, 'still where it was last reported');
        assert.ok(recorder.events.filter(isType('restarted', s.id)).every((e) => e.restarts === 0), 'the engine stopping it was not counted as a crash');
      }
      const exits = recorder.events.filter((e): e is Extract<DriverEvent, { type: 'exited' }> => e.type === 'exited');
      assert.ok(exits.every((e) => e.willRestart), JSON.stringify(exits));
      assert.equal(recorder.events.filter((e) => e.type === 'crashloop').length, 0, `no crash loop: ${JSON.stringify(recorder.events)}`);
      const moved = specs.filter((s) => (recorder.events.filter(isType('restarted', s.id)).at(-1) as { address: { host: string } }).address.host !== before.get(s.id));
      assert.ok(moved.length >= 1, `the squatter took an instance's address, which was reported: ${JSON.stringify(recorder.events)}`);
      recorder.stop();

      for (const s of specs) await driver.stop(s.id);
      await engine.removeContainer(squatter, { force: true });
      await driver.removeApp('steady');
      await driver.removeArtifact(built.artifact);
    } finally {
      await driver.close();
    }
  } finally {
    await daemon.stop();
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
});

/**
 * A dockerd of this test's own, in `dir` and in a network namespace made for it; start/restart/stop signal
 * only the process it spawned, and stop() removes the namespace.
 */
function privateDockerd(dir: string) {
  const socket = join(dir, 'docker.sock');
  const logFile = join(dir, 'dockerd.log');
  const netns = `berth-dockerd-${randomBytes(4).toString('hex')}`;
  const args = [`--net=/run/netns/${netns}`, dockerd, '--host', `unix://${socket}`, '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'docker.pid')];
  const ip = (...argv: string[]) => {
    const result = spawnSync('ip', argv, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`ip ${argv.join(' ')}: ${result.stderr}`);
  };
  let made = false;
  const engine = createDockerEngine({ socketPath: socket, timeoutMs: 5_000 });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    if (!made) {
      ip('netns', 'add', netns);
      made = true;
      ip('-n', netns, 'link', 'set', 'lo', 'up');
    }
    const out = openSync(logFile, 'a');
    // nsenter enters the namespace and then is dockerd (same pid): the signals below reach dockerd itself.
    child = spawn(nsenter, args, { stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    const me = child;
    exited = new Promise((resolve) => me.once('exit', () => resolve()));
    await waitFor(() => engine.ping(), { timeoutMs: 60_000, what: `the private dockerd to answer (log: ${logFile})`, intervalMs: 200 }).catch((error: Error) => {
      throw new Error(`${error.message}\n${readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n')}`);
    });
  };

  const end = async () => {
    const me = child;
    if (!me || me.exitCode !== null || me.signalCode !== null) return;
    me.kill('SIGTERM');
    const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 60_000).unref())]);
    if (!gone) {
      me.kill('SIGKILL');
      await exited;
    }
  };

  return {
    socket,
    start,
    async stop() {
      await end();
      if (made) ip('netns', 'del', netns);
      made = false;
    },
    /** As `systemctl restart docker` does: SIGTERM (it stops every container), wait for it to exit, start it again. */
    async restart() {
      await end();
      await start();
    },
  };
}

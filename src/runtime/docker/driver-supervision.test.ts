/**
 * The docker driver's supervision where the engine is involved beyond the contract: out-of-memory reports
 * come from the engine alone, and an engine that goes away (its event stream lost, its containers
 * stopped, moved to new addresses) is neither a crash nor a crash loop. The engine outage is simulated
 * with a wrapper that cuts the driver's event stream and refuses its calls, while the real engine stops
 * containers and gives their addresses to others, so the test is bounded and leaves the shared dockerd
 * alone. Skips visibly without an engine, fails in CI (BERTH_REQUIRE_DOCKER=1).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerSuite } from '../../../test/support/docker.ts';
import { ensureBusyboxImage, ensureNodeImage } from '../../../test/support/docker-images.ts';
import { newId } from '../../lib/ids.ts';
import { silentLogger } from '../../lib/log.ts';
import { writeFiles, writeFixture } from '../contract-fixtures.test-support.ts';
import { getJsonWhenUp, instanceSpec, recordEvents, waitFor } from '../contract-helpers.test-support.ts';
import type { DriverEvent, InstanceSpec, RestartPolicy, RuntimeDriver } from '../driver.ts';
import { createDockerDriver } from './driver.ts';
import type { DockerEngine, EngineEvent } from './engine.ts';
import { createDockerEngine, EngineError } from './engine-http.ts';
import { containerName, networkName, ownerFilter } from './names.ts';

const docker = await dockerSuite();

const isType =
  <T extends DriverEvent['type']>(type: T, id: string) =>
  (e: DriverEvent): e is Extract<DriverEvent, { type: T }> =>
    e.type === type && e.id === id;

/** Any counted crash is a crash loop: an instance that comes back was not counted. */
const noCrashAllowed: RestartPolicy = { maxRestarts: 0, windowMs: 60_000, backoffMs: 50, maxBackoffMs: 100 };

describe('docker driver supervision', { skip: docker.skip, timeout: 300_000 }, () => {
  const real = docker.skip ? (undefined as unknown as DockerEngine) : createDockerEngine();
  const ownerId = `test-${randomBytes(6).toString('hex')}`;
  const squatterLabel = { 'berth.test-squatter': ownerId };
  let base = '';
  let nodeImage = '';
  const drivers: RuntimeDriver[] = [];

  const makeDriver = (engine: DockerEngine = real) => {
    const driver = createDockerDriver({ engine, ownerId, root: join(base, 'runtime'), log: silentLogger, nodeImage, build: { memoryBytes: 1024 ** 3, cpus: 1 } });
    drivers.push(driver);
    return driver;
  };

  const buildFrom = async (driver: RuntimeDriver, files: Record<string, string> | 'echo') => {
    const dir = await mkdtemp(join(base, 'src-'));
    if (files === 'echo') await writeFixture('echo', dir);
    else await writeFiles(dir, files);
    return driver.build({ app: 'supervised', buildId: newId('bld'), sourceDir: dir, signal: new AbortController().signal, log: () => {} });
  };

  const specFor = (artifact: string, overrides: Partial<InstanceSpec>): InstanceSpec =>
    instanceSpec(artifact, { app: 'supervised', restart: noCrashAllowed, stopTimeoutMs: 1_000, ...overrides });

  before(async () => {
    if (docker.skip) return;
    base = await mkdtemp(join(tmpdir(), 'berth-docker-supervision-'));
    nodeImage = await ensureNodeImage();
  });

  after(async () => {
    if (docker.skip) return;
    const owned = ownerFilter(ownerId);
    try {
      const driver = makeDriver();
      for (const info of await driver.list()) await driver.stop(info.id);
      for (const c of await real.listContainers({ all: true, filters: { label: [`berth.test-squatter=${ownerId}`] } })) await real.removeContainer(c.Id, { force: true });
      await driver.removeApp('supervised');
      for (const d of drivers) await d.close();
      const left = {
        containers: (await real.listContainers({ all: true, filters: owned })).map((c) => c.Names[0]),
        networks: (await real.listNetworks(owned)).map((n) => n.Name),
        images: (await real.listImages(owned)).map((i) => i.Id),
      };
      assert.deepEqual(left, { containers: [], networks: [], images: [] }, 'the tests leave nothing of berth behind');
    } finally {
      for (const c of await real.listContainers({ all: true, filters: owned })) await real.removeContainer(c.Id, { force: true }).catch(() => {});
      for (const n of await real.listNetworks(owned)) await real.removeNetwork(n.Id).catch(() => {});
      for (const i of await real.listImages(owned)) await real.removeImage(i.Id, { force: true }).catch(() => {});
      await rm(base, { recursive: true, force: true });
    }
  });

  test('out of memory is what the engine says: a memory-limited instance that SIGKILLs itself is not reported as OOM, one over its limit is', { timeout: 120_000 }, async () => {
    const driver = makeDriver();
    const built = await buildFrom(driver, {
      'package.json': JSON.stringify({ name: 'oom', private: true, scripts: { start: 'node suicide.js' } }),
      // Exit 137 with memory to spare: the same code an OOM kill gives.
      'suicide.js': "console.log('suicide: up'); setTimeout(() => process.kill(process.pid, 'SIGKILL'), 300);\n",
      'hog.js': "const keep = []; console.log('hog: up'); setInterval(() => keep.push(Buffer.alloc(16 * 1024 * 1024).fill(1)), 20);\n",
    });
    const recorder = recordEvents(driver);
    const limited = (command: string) => specFor(built.artifact, { process: 'worker', port: false, command, resources: { memoryBytes: 128 * 1024 * 1024 } });

    const suicide = limited('node suicide.js');
    await driver.start(suicide);
    const killed = await recorder.waitFor(isType('exited', suicide.id), 30_000, 'the self-SIGKILL exit');
    assert.equal(killed.exit.code, 137);
    assert.equal(killed.exit.oom, undefined, `a SIGKILL with memory to spare is not out of memory: ${JSON.stringify(killed.exit)}`);
    await recorder.waitFor(isType('crashloop', suicide.id), 10_000, 'the crash loop (no restart allowed)');
    const info = await driver.inspect(suicide.id);
    assert.equal(info.state, 'crashloop');
    assert.equal(info.lastExit?.code, 137);
    assert.equal(info.lastExit?.oom, undefined);

    const hog = limited('node hog.js');
    await driver.start(hog);
    const oom = await recorder.waitFor(isType('exited', hog.id), 60_000, 'the OOM kill');
    assert.equal(oom.exit.code, 137);
    assert.equal(oom.exit.oom, true, `the engine reported it out of memory: ${JSON.stringify(oom.exit)}`);
    assert.equal((await driver.inspect(hog.id)).lastExit?.oom, true);

    await driver.stop(suicide.id);
    await driver.stop(hog.id);
    recorder.stop();
  });

  test('an engine outage: exits while the event stream is down or stopped by the engine are not crashes; instances come back and their new addresses are reported', { timeout: 120_000 }, async () => {
    const flaky = outageEngine(real);
    const driver = makeDriver(flaky.engine);
    const built = await buildFrom(driver, 'echo');
    const a = specFor(built.artifact, {});
    const b = specFor(built.artifact, {});
    const before = { a: (await driver.start(a)).address!, b: (await driver.start(b)).address! };
    await getJsonWhenUp(before.a, '/', 10_000);
    await getJsonWhenUp(before.b, '/', 10_000);
    const recorder = recordEvents(driver);

    // The engine goes away. Meanwhile (as an engine restart does) a's process dies with no kill from the
    // engine, b is stopped by the engine (a `kill`, as at its shutdown), and others take their addresses.
    flaky.down();
    const ids = { a: (await real.inspectContainer(containerName(a.id)))!.Id, b: (await real.inspectContainer(containerName(b.id)))!.Id };
    await real.exec(ids.a, ['sh', '-c', 'kill -9 -1'], { timeoutMs: 5_000 }).catch(() => undefined);
    await real.stopContainer(ids.b, 1);
    await waitFor(async () => !(await real.inspectContainer(ids.a))?.State.Running, { timeoutMs: 10_000, what: 'a to die' });
    const busybox = await ensureBusyboxImage();
    for (const n of [1, 2]) {
      const squatter = await real.createContainer(`berth-squatter-${ownerId}-${n}`, {
        Image: busybox,
        Cmd: ['sleep', '600'],
        Labels: squatterLabel,
        HostConfig: { NetworkMode: networkName(ownerId, 'supervised') },
      });
      await real.startContainer(squatter);
    }
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(recorder.events.length, 0, 'nothing is reported while the engine is away');
    flaky.up();

    for (const [name, spec] of [['a', a], ['b', b]] as const) {
      const exited = await recorder.waitFor(isType('exited', spec.id), 20_000, `${name}'s exit`);
      assert.equal(exited.willRestart, true, `${name} comes back`);
      const back = await recorder.waitFor(isType('restarted', spec.id), 20_000, `${name} back after the outage`);
      assert.equal(back.restarts, 0, `${name}'s exit was not counted as a crash`);
      assert.ok(back.address, `${name} has an address`);
      assert.notEqual(back.address.host, before[name].host, `${name} moved: its old address went to another container`);
      await getJsonWhenUp(back.address, '/', 10_000);
      const info = await driver.inspect(spec.id);
      assert.equal(info.state, 'running');
      assert.deepEqual(info.address, back.address, 'the address reported is the one it has');
    }
    assert.deepEqual(recorder.events.filter((e) => e.type === 'crashloop'), [], 'no crash loop');

    // Started by someone other than berth (an operator, here) after berth gave up: reported with its address.
    const ida = (await real.inspectContainer(containerName(a.id)))!.Id;
    await real.exec(ida, ['sh', '-c', 'kill -9 -1'], { timeoutMs: 5_000 }).catch(() => undefined);
    await recorder.waitFor(isType('crashloop', a.id), 20_000, 'a real crash counted: a crash loop');
    const count = recorder.events.filter(isType('restarted', a.id)).length;
    await real.startContainer(ida);
    const revived = await waitFor(() => recorder.events.filter(isType('restarted', a.id))[count], { timeoutMs: 20_000, what: 'a restarted event for a start berth did not make' });
    assert.ok(revived.address);
    await getJsonWhenUp(revived.address, '/', 10_000);
    assert.equal((await driver.inspect(a.id)).state, 'running');

    await driver.stop(a.id);
    await driver.stop(b.id);
    recorder.stop();
  });

  test('events that arrive out of time order are all handled: an engine stop whose `kill` is stamped before an event already seen is no crash', { timeout: 120_000 }, async () => {
    // dockerd stamps an event when it makes it and publishes it afterwards, so events of two containers made
    // at the same moment (an engine stopping all of them as it shuts down) can arrive out of time order.
    // Here b's events carry stamps 30 s late: every event of a after b's start arrives older than one seen.
    const pending = { b: '' };
    const driver = makeDriver(lateStamps(real, (event) => event.Actor.Attributes['berth.instance'] === pending.b, 30_000));
    const built = await buildFrom(driver, 'echo');
    const a = specFor(built.artifact, {});
    const b = specFor(built.artifact, {});
    pending.b = b.id;
    await driver.start(a);
    await driver.start(b);
    const recorder = recordEvents(driver);
    // Give b's start event time to arrive before a's kill and die are made.
    await new Promise((r) => setTimeout(r, 1_000));

    // Stopped from outside, as the engine does at its shutdown (a `kill`, then the exit): not a crash.
    await real.stopContainer((await real.inspectContainer(containerName(a.id)))!.Id, 1);
    const exited = await recorder.waitFor(isType('exited', a.id), 20_000, "a's exit, from events stamped before b's start");
    assert.equal(exited.willRestart, true, JSON.stringify(exited));
    const back = await recorder.waitFor(isType('restarted', a.id), 20_000, 'a started again');
    assert.equal(back.restarts, 0, 'the stop was not counted as a crash');
    assert.deepEqual(recorder.events.filter((e) => e.type === 'crashloop'), [], 'no crash loop, though no crash is allowed');
    await getJsonWhenUp(back.address!, '/', 10_000);
    assert.equal((await driver.inspect(a.id)).state, 'running');

    await driver.stop(a.id);
    await driver.stop(b.id);
    recorder.stop();
  });

  test('an instance that exits at once, before start() has its record: its exit is handled (restarts, then a crash loop)', { timeout: 120_000 }, async () => {
    // The engine answers the inspect after the start slowly, so the container's `die` arrives before start()
    // returns (as it can on a busy engine): that exit must not be lost.
    const driver = makeDriver(slowInspectAfterStart(real, 500));
    const built = await buildFrom(driver, 'echo');
    const recorder = recordEvents(driver);
    const spec = specFor(built.artifact, { process: 'worker', port: false, command: "sh -c 'exit 3'", restart: { maxRestarts: 2, windowMs: 60_000, backoffMs: 50, maxBackoffMs: 100 } });
    await driver.start(spec);
    const first = await recorder.waitFor(isType('exited', spec.id), 20_000, 'the first exit');
    assert.equal(first.exit.code, 3);
    assert.equal(first.willRestart, true);
    const back = await recorder.waitFor(isType('restarted', spec.id), 20_000, 'a restart');
    assert.equal(back.restarts, 1);
    const loop = await recorder.waitFor(isType('crashloop', spec.id), 30_000, 'the crash loop');
    assert.equal(loop.restarts, 2);
    assert.equal(recorder.events.filter(isType('exited', spec.id)).length, 3, JSON.stringify(recorder.events));
    const info = await driver.inspect(spec.id);
    assert.equal(info.state, 'crashloop');
    assert.equal(info.lastExit?.code, 3);
    await driver.stop(spec.id);
    recorder.stop();
  });

  test('while no daemon watches, the engine stopping a container (engine restart, host reboot) is no crash: adopt() starts it again at once, nothing counted', { timeout: 120_000 }, async () => {
    const first = makeDriver();
    const built = await buildFrom(first, 'echo');
    const spec = specFor(built.artifact, {});
    await getJsonWhenUp((await first.start(spec)).address!, '/', 10_000);
    await first.close();

    // The engine stops it as it does at its shutdown (SIGTERM, then SIGKILL after the stop timeout).
    const container = (await real.inspectContainer(containerName(spec.id)))!;
    await real.stopContainer(container.Id, 1);
    assert.equal((await real.inspectContainer(container.Id))!.State.Running, false);

    const second = makeDriver();
    const recorder = recordEvents(second);
    await second.adopt();
    const back = await recorder.waitFor(isType('restarted', spec.id), 20_000, 'the instance started again');
    assert.equal(back.restarts, 0, 'the engine stopping it was not counted');
    assert.ok(back.address);
    await getJsonWhenUp(back.address, '/', 10_000);
    const exited = recorder.events.filter(isType('exited', spec.id));
    assert.ok(exited.every((e) => e.willRestart), JSON.stringify(exited));
    assert.deepEqual(recorder.events.filter((e) => e.type === 'crashloop'), [], 'no crash loop, though no crash is allowed');
    const info = await second.inspect(spec.id);
    assert.equal(info.state, 'running');
    assert.equal(info.restarts, 0);
    await second.stop(spec.id);
    recorder.stop();
  });

  test('while no daemon watches, an app that exits on its own has crashed: adopt() counts it', { timeout: 120_000 }, async () => {
    const first = makeDriver();
    const built = await buildFrom(first, 'echo');
    // Runs until told to crash (a file appears), then exits with code 3.
    const spec = specFor(built.artifact, { process: 'worker', port: false, command: 'while [ ! -f /tmp/crash ]; do sleep 0.1; done; exit 3' });
    await first.start(spec);
    await first.close();

    const container = (await real.inspectContainer(containerName(spec.id)))!;
    await real.exec(container.Id, ['touch', '/tmp/crash'], { timeoutMs: 5_000 });
    await waitFor(async () => !(await real.inspectContainer(container.Id))!.State.Running, { timeoutMs: 10_000, what: 'the app to exit' });
    assert.equal((await real.inspectContainer(container.Id))!.State.ExitCode, 3);

    const second = makeDriver();
    const recorder = recordEvents(second);
    await second.adopt();
    const loop = await recorder.waitFor(isType('crashloop', spec.id), 20_000, 'the crash counted (no crash allowed: a crash loop)');
    assert.equal(loop.exit.code, 3);
    assert.equal((await second.inspect(spec.id)).state, 'crashloop');
    assert.deepEqual(recorder.events.filter(isType('restarted', spec.id)), [], 'not started again');
    await second.stop(spec.id);
    recorder.stop();
  });
});

/** The real engine, except that the first inspect after each container start answers `delayMs` late. */
function slowInspectAfterStart(real: DockerEngine, delayMs: number): DockerEngine {
  let started = false;
  return new Proxy(real, {
    get(target, property: keyof DockerEngine) {
      const value = target[property];
      if (property === 'startContainer') {
        return async (...args: Parameters<DockerEngine['startContainer']>) => {
          await target.startContainer(...args);
          started = true;
        };
      }
      if (property === 'inspectContainer') {
        return async (...args: Parameters<DockerEngine['inspectContainer']>) => {
          const answer = await target.inspectContainer(...args);
          if (started) {
            started = false;
            await new Promise((r) => setTimeout(r, delayMs));
          }
          return answer;
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The real engine, except that the events `late` picks carry a stamp `ms` later than the engine gave them. */
function lateStamps(real: DockerEngine, late: (event: EngineEvent) => boolean, ms: number): DockerEngine {
  async function* events(options: Parameters<DockerEngine['events']>[0]): AsyncGenerator<EngineEvent> {
    for await (const event of real.events(options)) yield late(event) ? { ...event, time: event.time + Math.round(ms / 1000), timeNano: event.timeNano + ms * 1e6 } : event;
  }
  return new Proxy(real, {
    get(target, property: keyof DockerEngine) {
      if (property === 'events') return events;
      const value = target[property];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * The real engine, except that down() makes it unreachable for the driver: event streams end with the
 * error a vanished engine gives, calls fail with status 0, ping says false; up() ends that.
 */
function outageEngine(real: DockerEngine): { engine: DockerEngine; down(): void; up(): void } {
  let away = false;
  const streams = new Set<AbortController>();
  const unreachable = () => new EngineError(0, 'cannot reach the Docker engine (simulated outage)');
  async function* events(options: Parameters<DockerEngine['events']>[0]): AsyncGenerator<EngineEvent> {
    if (away) throw unreachable();
    const cut = new AbortController();
    streams.add(cut);
    try {
      for await (const event of real.events({ ...options, signal: AbortSignal.any([options.signal, cut.signal]) })) yield event;
    } finally {
      streams.delete(cut);
    }
    if (cut.signal.aborted && !options.signal.aborted) throw new EngineError(0, 'the engine closed the event stream');
  }
  const engine = new Proxy(real, {
    get(target, property: keyof DockerEngine) {
      if (property === 'events') return events;
      if (property === 'ping') return () => (away ? Promise.resolve(false) : target.ping());
      const value = target[property];
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (away) {
          // Async iterables (logs) fail on first use, everything else at once.
          if (property === 'containerLogs') {
            return (async function* () {
              throw unreachable();
            })();
          }
          return Promise.reject(unreachable());
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    engine,
    down() {
      away = true;
      for (const cut of streams) cut.abort();
    },
    up() {
      away = false;
    },
  };
}

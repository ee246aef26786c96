/**
 * Pulls through the real engine from a real registry (Debian's docker-registry on a loopback port, one
 * for this file): images berth did not build are pulled when missing, before a service, an instance, a
 * one-off run or a build uses them, with progress; each way a pull fails has its own code, within the
 * configured time, and leaves nothing behind (no container, no network, no image). Skips visibly without
 * an engine or the registry package; fails in CI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registrySuite, startRegistry, type TestRegistry } from '../../../test/support/registry.ts';
import { isBerthError, type BerthError } from '../../errors/catalogue.ts';
import { silentLogger } from '../../lib/log.ts';
import { instanceSpec } from '../contract-helpers.test-support.ts';
import type { PullProgress } from '../driver.ts';
import { createDockerDriver, type DockerDriver } from './driver.ts';
import { contextTar, engineHarness, type EngineHarness } from './engine-harness.test-support.ts';
import type { DockerEngine } from './engine.ts';
import type { PullLimits } from './images.ts';
import { LABEL, ownerFilter } from './names.ts';

const suite = await registrySuite('none');

describe('pulling images berth did not build, from a real registry', { skip: suite.skip, timeout: 600_000 }, () => {
  let registry: TestRegistry;
  let harness: EngineHarness;
  let engine: DockerEngine;
  let root: string;
  const runId = randomBytes(4).toString('hex');
  const ownerId = `test-pull-${runId}`;
  const drivers: DockerDriver[] = [];
  const servers: { close(): void }[] = [];

  const driver = (pull?: Partial<PullLimits>): DockerDriver => {
    const made = createDockerDriver({ engine, ownerId, root: join(root, `driver-${drivers.length}`), log: silentLogger, nodeImage: harness.base, build: { memoryBytes: 512 * 1024 ** 2, cpus: 1 }, ...(pull ? { pull } : {}) });
    drivers.push(made);
    return made;
  };

  /**
   * A new image that exists only in the registry: busybox plus a layer of random bytes (so the pull
   * downloads something), labelled with this run's label, pushed, then removed from the engine.
   */
  const fresh = async (target: string, options: { cmd?: string } = {}): Promise<string> => {
    const blob = randomBytes(1_500_000).toString('base64');
    const dockerfile = `FROM ${harness.base}\nCOPY blob /blob\nCMD ${JSON.stringify(['sh', '-c', options.cmd ?? 'sleep 600'])}\n`;
    // Tagged here, so that removing the tag afterwards takes the build's intermediate images (the new layer) too.
    const local = `berth-test-pull-${runId}:${target.replace(/[^a-z0-9]+/g, '-')}`;
    await engine.buildImage(contextTar({ Dockerfile: dockerfile, blob }), { tags: [local], labels: harness.labels }, () => {});
    await registry.push(local, target);
    await engine.removeImage(local, { force: true });
    const ref = registry.ref(target);
    assert.equal(await engine.inspectImage(ref), undefined, `${ref} is only in the registry`);
    return ref;
  };

  /** A loopback port nothing listens on. */
  const closedPort = () =>
    new Promise<number>((resolve) => {
      const server = createNetServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });

  const failure = async (promise: Promise<unknown>): Promise<BerthError> => {
    try {
      await promise;
    } catch (error) {
      assert.ok(isBerthError(error), `a catalogue error, not ${(error as Error).stack}`);
      assert.ok(error.hint, 'with a hint');
      assert.doesNotMatch(`${error.message} ${error.hint}`, /internal error|bug in berth/);
      return error;
    }
    assert.fail('expected the pull to fail');
  };

  /** Nothing of the app's on the engine: no container, no network, no image under `ref`, no half-pulled image. */
  const assertNothingLeft = async (app: string, ref: string) => {
    const mine = ownerFilter(ownerId, [`${LABEL.app}=${app}`]);
    assert.deepEqual((await engine.listContainers({ all: true, filters: mine })).map((c) => c.Names[0]), [], 'no container');
    assert.deepEqual((await engine.listNetworks(mine)).map((n) => n.Name), [], 'no network');
    assert.equal(await engine.inspectImage(ref), undefined, 'no image');
    assert.deepEqual((await engine.listImages({ dangling: ['true'], ...harness.filters })).map((i) => i.Id), [], 'no dangling image');
  };

  before(async () => {
    harness = await engineHarness();
    engine = harness.engine;
    root = await mkdtemp(join(tmpdir(), 'berth-pull-'));
    registry = await startRegistry();
  });

  after(async () => {
    for (const server of servers) server.close();
    for (const made of drivers) {
      for (const app of ['svc', 'web', 'job', 'missing', 'keep', 'refused', 'silent', 'stall', 'slow', 'build']) await made.removeApp(app).catch(() => {});
      await made.close();
    }
    for (const image of await engine.listImages(ownerFilter(ownerId))) await engine.removeImage(image.Id, { force: true }).catch(() => {});
    await registry?.stop();
    await harness?.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  test('a service whose image is only in the registry is pulled, with progress, then started; once there, not pulled again', async () => {
    const ref = await fresh('team/cache:1');
    const seen: (PullProgress & { at: number })[] = [];
    const services = driver().services;
    const started = Date.now();
    const spec = { app: 'svc', name: 'cache', image: ref, env: {}, volumes: {}, onPull: (p: PullProgress) => seen.push({ ...p, at: Date.now() }) };
    assert.deepEqual(await services.ensure(spec), { changed: true });
    assert.equal(await services.state('svc', 'cache'), 'running');
    assert.ok((await engine.inspectImage(ref))?.Id, 'the image is on the engine');

    const last = seen.at(-1)!;
    assert.equal(last.done, true);
    assert.ok(last.totalBytes > 1_500_000 && last.doneBytes === last.totalBytes, `the download's bytes: ${JSON.stringify(last)}`);
    assert.equal(last.layersDone, last.layers);
    assert.ok(last.layers >= 2, 'busybox\'s layer and the new one');
    // At most 4 a second, the last one (done) aside.
    const during = seen.slice(0, -1);
    for (let i = 1; i < during.length; i++) assert.ok(during[i].at - during[i - 1].at >= 240, `reports ${i - 1} and ${i} are ${during[i].at - during[i - 1].at} ms apart`);
    assert.ok(during.length <= Math.ceil((Date.now() - started) / 250) + 1);

    // A changed spec recreates the service from the image already there: no pull.
    seen.length = 0;
    assert.deepEqual(await services.ensure({ ...spec, env: { MODE: 'b' } }), { changed: true });
    assert.deepEqual(seen, []);
    // The progress callback is no part of the spec: another one changes nothing.
    assert.deepEqual(await services.ensure({ ...spec, env: { MODE: 'b' }, onPull: () => {} }), { changed: false });
  });

  test('an image app\'s instance and a one-off run pull the image they run', async () => {
    const d = driver();
    const web = await fresh('team/web:1');
    const pulls: PullProgress[] = [];
    const info = await d.start(instanceSpec(web, { app: 'web', command: 'sleep 600', port: false, onPull: (p) => pulls.push(p) }));
    assert.equal(info.state, 'running');
    assert.equal(pulls.at(-1)?.done, true);
    await d.stop(info.id);

    const job = await fresh('team/job:1');
    const output: string[] = [];
    let jobPulled = false;
    const result = await d.runOnce({
      id: `one_${runId}`, app: 'job', release: 'r1', artifact: job, command: 'wc -c < /blob', env: {}, secrets: [], timeoutMs: 60_000,
      signal: AbortSignal.timeout(120_000), onLine: (line) => output.push(line.line), onPull: (p) => (jobPulled ||= p.done),
    });
    assert.deepEqual(result, { exitCode: 0, timedOut: false });
    assert.equal(output.join('').trim(), '2000000');
    assert.equal(jobPulled, true);
  });

  test('an unknown tag is IMAGE_NOT_FOUND, and the service is not created, nor the app\'s network', async () => {
    const ref = registry.ref('team/cache:no-such-tag');
    const error = await failure(driver().services.ensure({ app: 'missing', name: 'cache', image: ref, env: {}, volumes: {} }));
    assert.equal(error.code, 'IMAGE_NOT_FOUND');
    assert.equal(error.message, `image ${ref} was not found on ${registry.host}: the registry has no such repository or tag`);
    await assertNothingLeft('missing', ref);
  });

  test('a service whose new image cannot be pulled keeps running, untouched', async () => {
    const services = driver().services;
    const spec = { app: 'keep', name: 'cache', image: harness.base, command: 'sleep 600', env: {}, volumes: {} };
    await services.ensure(spec);
    const before = await engine.listContainers({ all: true, filters: ownerFilter(ownerId, [`${LABEL.app}=keep`]) });
    assert.equal(before.length, 1);
    const error = await failure(services.ensure({ ...spec, image: registry.ref('team/cache:no-such-tag') }));
    assert.equal(error.code, 'IMAGE_NOT_FOUND');
    const after = await engine.listContainers({ all: true, filters: ownerFilter(ownerId, [`${LABEL.app}=keep`]) });
    assert.deepEqual(after.map((c) => [c.Id, c.State]), [[before[0].Id, 'running']]);
  });

  test('a registry port that refuses connections is REGISTRY_UNREACHABLE', async () => {
    const host = `127.0.0.1:${await closedPort()}`;
    const ref = `${host}/team/web:1`;
    const error = await failure(driver().start(instanceSpec(ref, { app: 'refused', command: 'sleep 600', port: false })));
    assert.equal(error.code, 'REGISTRY_UNREACHABLE');
    assert.equal(error.message, `cannot reach registry ${host} for ${ref}: the connection was refused (is the registry running, on that port?)`);
    await assertNothingLeft('refused', ref);
  });

  test('a registry that accepts connections and never answers: PULL_TIMEOUT within the configured time', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    servers.push({ close: () => (silent.close(), sockets.forEach((s) => s.destroy())) });
    const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const ref = `${host}/team/job:1`;
    const started = Date.now();
    const error = await failure(
      driver({ timeoutMs: 3_000, idleMs: 60_000 }).runOnce({
        id: `one_silent_${runId}`, app: 'silent', release: 'r1', artifact: ref, command: 'true', env: {}, secrets: [], timeoutMs: 60_000,
        signal: AbortSignal.timeout(60_000), onLine: () => {},
      }),
    );
    const took = Date.now() - started;
    assert.equal(error.code, 'PULL_TIMEOUT');
    assert.equal(error.message, `pulling ${ref} from ${host} took longer than 3 s`);
    assert.ok(took >= 3_000 && took < 5_000, `gave up after ${took} ms`);
    assert.ok(sockets.size > 0, 'the engine did connect');
    await assertNothingLeft('silent', ref);
  });

  /**
   * A registry behind a proxy that passes everything but blobs (image config and layers): `hold` never
   * answers them, `trickle` sends them at 160 KB/s. Counts the blob downloads still open, and those
   * the engine closed before their end.
   */
  const slowRegistry = async (mode: 'hold' | 'trickle') => {
    const open = new Set<ServerResponse>();
    const state = { blobsAsked: 0, cut: 0, open };
    const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
      const blob = req.method === 'GET' && req.url?.includes('/blobs/');
      if (blob) {
        state.blobsAsked++;
        open.add(res);
        res.on('close', () => {
          open.delete(res);
          if (!res.writableEnded) state.cut++;
        });
        if (mode === 'hold') return;
      }
      const upstream = request({ host: '127.0.0.1', port: Number(registry.host.split(':')[1]), method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (!blob) return void answer.pipe(res);
        // 16 KB every 100 ms, whatever size the chunks come in.
        answer.on('data', (chunk: Buffer) => {
          answer.pause();
          const next = (at: number) => {
            if (at >= chunk.length || res.destroyed) return void answer.resume();
            res.write(chunk.subarray(at, at + 16_384), () => setTimeout(() => next(at + 16_384), 100));
          };
          next(0);
        });
        answer.on('end', () => res.end());
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    servers.push({ close: () => (proxy.close(), proxy.closeAllConnections()) });
    return { host: `127.0.0.1:${(proxy.address() as AddressInfo).port}`, state };
  };

  test('a registry that stops sending mid-pull: PULL_TIMEOUT (stalled) after the idle limit, and no image', async () => {
    const target = 'team/stall:1';
    await fresh(target);
    const { host, state } = await slowRegistry('hold');
    const ref = `${host}/${target}`;
    const seen: PullProgress[] = [];
    const started = Date.now();
    const error = await failure(driver({ timeoutMs: 120_000, idleMs: 2_000 }).services.ensure({ app: 'stall', name: 'cache', image: ref, env: {}, volumes: {}, onPull: (p) => seen.push(p) }));
    const took = Date.now() - started;
    assert.equal(error.code, 'PULL_TIMEOUT');
    assert.equal(error.message, `pulling ${ref} stalled: no progress from ${host} for 2 s`);
    assert.ok(took >= 2_000 && took < 6_000, `gave up after ${took} ms`);
    assert.ok(state.blobsAsked > 0 && seen.length > 0, 'the pull had begun');
    assert.ok(seen.every((p) => !p.done));
    // The engine keeps a wholly stalled download open (it notices the caller left only when it next reports
    // progress), but it makes no image of it.
    await assertNothingLeft('stall', ref);
  });

  test('a pull still downloading at the time limit: PULL_TIMEOUT, the engine stops downloading and keeps nothing', async () => {
    const target = 'team/slow:1';
    await fresh(target);
    const { host, state } = await slowRegistry('trickle');
    const ref = `${host}/${target}`;
    const seen: PullProgress[] = [];
    const error = await failure(driver({ timeoutMs: 2_500, idleMs: 60_000 }).images.ensure(ref, { onPull: (p) => seen.push(p) }));
    assert.equal(error.code, 'PULL_TIMEOUT');
    assert.equal(error.message, `pulling ${ref} from ${host} took longer than 2.5 s`);
    assert.ok(seen.some((p) => p.doneBytes > 0), `bytes were arriving: ${JSON.stringify(seen.at(-1))}`);
    // Giving up closed the connection to the engine, which cancels its pull at its next progress report.
    const deadline = Date.now() + 10_000;
    while (state.open.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(state.open.size, 0, 'the engine stopped downloading');
    assert.ok(state.cut > 0, 'before the layer was complete');
    await assertNothingLeft('slow', ref);
  });

  test('a build pulls its FROM images first (the build log shows it); a FROM that cannot be pulled fails as that pull, not as a build', async () => {
    const d = driver();
    const base = await fresh('team/base:1');
    const build = async (buildId: string, dockerfile: string) => {
      const sourceDir = await mkdtemp(join(root, `${buildId}-`));
      await writeFile(join(sourceDir, 'Dockerfile'), dockerfile);
      const lines: string[] = [];
      const pulls: PullProgress[] = [];
      const result = d.build({ app: 'build', buildId, sourceDir, signal: AbortSignal.timeout(240_000), log: (line) => lines.push(line), onPull: (p) => pulls.push(p) });
      return { result, lines, pulls };
    };

    const ok = await build(`bld_ok_${runId}`, `FROM ${base}\nRUN test -s /blob\n`);
    const { artifact } = await ok.result;
    assert.equal(ok.lines[0], `berth: pulling ${base}`);
    assert.match(ok.lines[1], new RegExp(`^berth: pulled ${base.replace(/[.]/g, '\\.')} \\(\\d+(\\.\\d)? MB\\)$`));
    assert.equal(ok.pulls.at(-1)?.done, true);
    await d.removeArtifact(artifact);

    const host = `127.0.0.1:${await closedPort()}`;
    const unreachable = await build(`bld_unreachable_${runId}`, `FROM ${host}/team/base:1\nRUN true\n`);
    const error = await failure(unreachable.result);
    assert.equal(error.code, 'REGISTRY_UNREACHABLE');
    assert.match(error.message, new RegExp(`^cannot reach registry ${host} for ${host}/team/base:1: the connection was refused`));
    assert.doesNotMatch(error.hint!, /run the same build locally/);

    // A FROM berth leaves to the build (a variable in it): the build's own pull fails, and says so the same way.
    const missing = await build(`bld_missing_${runId}`, `ARG TAG=no-such-tag\nFROM ${registry.host}/team/base:\${TAG}\nRUN true\n`);
    const notFound = await failure(missing.result);
    assert.equal(notFound.code, 'IMAGE_NOT_FOUND');
    assert.match(notFound.message, new RegExp(`^image ${registry.host}/team/base:no-such-tag was not found on ${registry.host}`));
    assert.ok(missing.lines.some((line) => line.includes('FROM')), missing.lines.join('\n'));
    assert.deepEqual((await engine.listImages(ownerFilter(ownerId, [`${LABEL.app}=build`]))).map((i) => i.Id), [], 'no image of the failed builds');
  });
});

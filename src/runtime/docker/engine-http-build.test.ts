/** Image builds and image calls against the real engine. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dockerSuite } from '../../../test/support/docker.ts';
import { waitFor, within } from '../contract-helpers.test-support.ts';
import type { ContainerSummary } from './engine.ts';
import { EngineError } from './engine-http.ts';
import { collect, contextTar, engineHarness, type EngineHarness } from './engine-harness.test-support.ts';

const docker = await dockerSuite();

describe('docker engine over HTTP: builds and images', { skip: docker.skip, timeout: 180_000 }, () => {
  let h: EngineHarness;
  before(async () => {
    h = await engineHarness();
  });
  after(async () => {
    await h?.cleanup();
  });

  test('a build sends its output as lines and applies tags, labels, the Dockerfile path, build args and caps', async () => {
    const repo = `berth-test/build-${h.runId}`;
    const dockerfile = [
      `FROM ${h.base}`,
      'ARG GREETING',
      // The run id keeps the engine's build cache from reusing another run's layers.
      `RUN echo "greeting=$GREETING run=${h.runId}" && echo "second line"`,
      'RUN cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes',
      'COPY hello.txt /hello.txt',
      'CMD ["cat", "/hello.txt"]',
    ].join('\n');
    const lines: string[] = [];
    const { imageId } = await h.engine.buildImage(
      contextTar({ 'build/App.dockerfile': dockerfile, 'hello.txt': `hello from ${h.runId}\n` }),
      {
        tags: [`${repo}:1`, `${repo}:latest`],
        labels: { ...h.labels, 'berth.kind': 'image' },
        dockerfile: 'build/App.dockerfile',
        buildArgs: { GREETING: 'hola' },
        memoryBytes: 64 * 1024 * 1024,
        cpuQuota: 50_000,
        cpuPeriod: 100_000,
      },
      (line) => lines.push(line),
    );
    assert.match(imageId, /^sha256:[0-9a-f]{64}$/);
    assert.ok(lines.includes(`greeting=hola run=${h.runId}`), lines.join('\n'));
    assert.ok(lines.includes('second line'));
    assert.ok(lines.includes(String(64 * 1024 * 1024)), 'the memory cap applies to the build steps');
    assert.match(lines[0], /^Step 1\/\d+ : FROM /);
    assert.ok(lines.every((line) => !line.includes('\n')));

    const image = await h.engine.inspectImage(`${repo}:1`);
    assert.equal(image?.Id, imageId);
    assert.deepEqual([...(image.RepoTags ?? [])].sort(), [`${repo}:1`, `${repo}:latest`]);
    assert.equal(image.Labels?.['berth.kind'], 'image');
    assert.equal(image.Labels?.['berth.test'], h.runId);
    assert.ok(image.Created > 0 && Math.abs(image.Created * 1000 - Date.now()) < 10 * 60_000);
    assert.ok(image.Size > 0);

    const listed = await h.engine.listImages({ label: [`berth.test=${h.runId}`, 'berth.kind=image'] });
    assert.deepEqual(
      listed.map((i) => i.Id),
      [imageId],
    );
    assert.deepEqual(await h.engine.listImages({ label: [`berth.test=${h.runId}`, 'berth.kind=other'] }), []);

    const id = await h.run('from-build', { Image: `${repo}:1` });
    assert.equal(await within(h.engine.waitContainer(id), 15_000, 'the built image to run'), 0);
    assert.deepEqual(
      (await collect(h.engine.containerLogs(id, {}))).map((e) => e.line),
      [`hello from ${h.runId}`],
    );
    await h.engine.removeContainer(id);

    await h.engine.tagImage(imageId, repo, 'extra');
    assert.ok((await h.engine.inspectImage(`${repo}:extra`))?.RepoTags?.includes(`${repo}:extra`));
    await h.engine.removeImage(`${repo}:extra`); // an image with other tags only loses this one
    assert.equal(await h.engine.inspectImage(`${repo}:extra`), undefined);
    assert.equal((await h.engine.inspectImage(imageId))?.Id, imageId);
    await h.engine.removeImage(imageId, { force: true });
    await h.engine.removeImage(imageId, { force: true }); // 404: already gone
    assert.equal(await h.engine.inspectImage(`${repo}:1`), undefined);
  });

  test('a failing step rejects with the engine error, after its output arrived, and tags nothing', async () => {
    const lines: string[] = [];
    const tag = `berth-test/fail-${h.runId}:1`;
    const build = h.engine.buildImage(
      contextTar({ Dockerfile: `FROM ${h.base}\nRUN echo "about to fail ${h.runId}" && exit 3\n` }),
      { tags: [tag], labels: h.labels },
      (line) => lines.push(line),
    );
    await assert.rejects(build, (error) => error instanceof EngineError && /returned a non-zero code: 3/.test(error.message));
    assert.ok(lines.includes(`about to fail ${h.runId}`), lines.join('\n'));
    assert.equal(await h.engine.inspectImage(tag), undefined);
  });

  test('a missing Dockerfile is an EngineError', async () => {
    const build = h.engine.buildImage(contextTar({ Dockerfile: `FROM ${h.base}\n` }), { tags: [`berth-test/none-${h.runId}:1`], labels: h.labels, dockerfile: 'Nope.dockerfile' }, () => {});
    await assert.rejects(build, (error) => error instanceof EngineError && error.status === 500 && /Cannot locate specified Dockerfile/.test(error.message));
  });

  test('aborting the signal rejects with its reason and the engine stops the build container', async () => {
    const marker = `abort-${h.runId}`;
    const controller = new AbortController();
    let markerSeen = () => {};
    const running = new Promise<void>((resolve) => (markerSeen = resolve));
    const build = h.engine.buildImage(
      contextTar({ Dockerfile: `FROM ${h.base}\nRUN echo ${marker} && sleep 120\n` }),
      { tags: [`berth-test/abort-${h.runId}:1`], labels: h.labels, signal: controller.signal },
      (line) => {
        if (line === marker) markerSeen();
      },
    );
    build.catch(() => {}); // handled below; keeps an early failure from going unhandled meanwhile
    // Build containers carry no labels of ours: find them by the command that holds the marker.
    const buildContainers = async () =>
      (await h.engine.listContainers({ all: true })).filter((c) => ((c as ContainerSummary & { Command?: string }).Command ?? '').includes(marker));
    await within(running, 30_000, 'the build step to start');
    assert.equal((await buildContainers()).length, 1, 'the build step runs in a container');
    controller.abort(new Error('build cancelled by the test'));
    await assert.rejects(within(build, 30_000, 'the aborted build'), /build cancelled by the test/);
    await waitFor(async () => (await buildContainers()).length === 0, { timeoutMs: 20_000, what: 'the engine to remove the cancelled build container' });
    assert.equal(await h.engine.inspectImage(`berth-test/abort-${h.runId}:1`), undefined);
  });

  test('inspectImage of a missing image is undefined; removeImage of one is fine', async () => {
    assert.equal(await h.engine.inspectImage(`berth-test/missing-${h.runId}:1`), undefined);
    await h.engine.removeImage(`berth-test/missing-${h.runId}:1`);
  });
});

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerSuite } from '../../../test/support/docker.ts';
import { ensureBusyboxImage, ensureNodeImage } from '../../../test/support/docker-images.ts';
import { ENV_REASON, packDirectory } from '../../archive/pack.ts';
import { withTempDir } from '../../archive/archive.test-support.ts';
import { silentLogger } from '../../lib/log.ts';
import type { BuildRequest } from '../driver.ts';
import { buildImage, dockerignore } from './build.ts';
import { collect } from './engine-harness.test-support.ts';
import type { DockerEngine } from './engine.ts';
import { createDockerEngine } from './engine-http.ts';
import { DockerImages } from './images.ts';
import { LABEL, ownerFilter } from './names.ts';
import { tagOwnImage } from './tags.ts';

async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

test('.dockerignore shapes the build context with the meaning its patterns have in .berthignore', async () => {
  await withTempDir(async (app) => {
    await writeTree(app, {
      '.dockerignore': '# not a pattern\r\n*.txt\r\n!keep.txt\n**/cache\nout/\n\n',
      'a.txt': 'x', 'keep.txt': 'k', 'sub/b.txt': 'x', 'sub/keep.txt': 'k', 'cache/x.js': 'x', 'deep/er/cache/y.js': 'x',
      'out/z.js': 'x', 'src/out': 'a file, not a folder', 'index.js': 'i', '# not a pattern': 'kept',
    });
    const packed = await packDirectory(app, { extraIgnore: dockerignore(app) });
    packed.stream.resume();
    assert.deepEqual(packed.files, ['# not a pattern', '.dockerignore', 'index.js', 'keep.txt', 'src/out', 'sub/keep.txt']);
  });
});

test('no .dockerignore line brings env files, .git or node_modules into the build context', async () => {
  await withTempDir(async (app) => {
    await writeTree(app, {
      '.dockerignore': '!.env\n!.env*\n!.envrc\n!.git\n!.git/**\n!node_modules\n!node_modules/**\n!**\n',
      '.env': 'SECRET=1', '.env.example': 'SECRET=', '.envrc': 'export SECRET=2', '.git/HEAD': 'ref', 'node_modules/x/index.js': 'x', 'index.js': 'i',
    });
    const packed = await packDirectory(app, { extraIgnore: dockerignore(app) });
    packed.stream.resume();
    assert.deepEqual(packed.files, ['.dockerignore', 'index.js']);
    assert.deepEqual(packed.skipped, ['.env', '.env.example', '.envrc'].map((path) => ({ path, reason: ENV_REASON })));
  });
});

test('no .dockerignore adds nothing', async () => {
  await withTempDir(async (app) => assert.deepEqual(dockerignore(app), []));
});

const docker = await dockerSuite();

describe('buildImage on a real engine', { skip: docker.skip, timeout: 300_000 }, () => {
  let engine: DockerEngine;
  let images: DockerImages;
  let nodeImage: string;
  let busybox: string;
  let base: string;
  const runId = randomBytes(5).toString('hex');
  const ownerId = `test-build-${runId}`;
  const caps = { memoryBytes: 1024 ** 3, cpus: 1 };
  /** Refs this run put on images it did not build (they go, the images stay). */
  const foreignTags: string[] = [];

  before(async () => {
    engine = createDockerEngine();
    images = new DockerImages({ engine, log: silentLogger });
    nodeImage = await ensureNodeImage();
    busybox = await ensureBusyboxImage();
    base = await mkdtemp(join(tmpdir(), 'berth-build-test-'));
  });

  after(async () => {
    if (!engine) return;
    for (const ref of foreignTags) await engine.removeImage(ref).catch(() => {}); // only the tag: the image has its own
    for (const c of await engine.listContainers({ all: true, filters: ownerFilter(ownerId) })) await engine.removeContainer(c.Id, { force: true });
    for (const i of await engine.listImages(ownerFilter(ownerId))) await engine.removeImage(i.Id, { force: true }).catch(() => {});
    await rm(base, { recursive: true, force: true });
    assert.deepEqual((await engine.listImages(ownerFilter(ownerId))).map((i) => i.Id), [], 'the test leaves no image behind');
  });

  const request = async (app: string, buildId: string, files: Record<string, string>, extra: Partial<BuildRequest> = {}) => {
    const sourceDir = await mkdtemp(join(base, `${buildId}-`));
    await writeTree(sourceDir, files);
    const lines: string[] = [];
    const req: BuildRequest = { app, buildId, sourceDir, signal: AbortSignal.timeout(240_000), log: (line) => lines.push(line), ...extra };
    return { req, lines };
  };

  /** Runs `script` in a container of `image` (as the image's user) and returns its output. */
  const run = async (image: string, script: string): Promise<string> => {
    const id = await engine.createContainer(`berth_${ownerId}_${randomBytes(3).toString('hex')}`, {
      Image: image,
      Cmd: ['sh', '-c', script],
      Labels: { [LABEL.owner]: ownerId, [LABEL.kind]: 'one-off' },
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await engine.startContainer(id);
      assert.equal(await engine.waitContainer(id), 0);
      return (await collect(engine.containerLogs(id, {}))).map((entry) => entry.line).join('\n');
    } finally {
      await engine.removeContainer(id, { force: true });
    }
  };

  test('a Node app without a Dockerfile: production dependencies, the build output, root-owned files, uid 1000, no secrets', async () => {
    // Local dependencies (no registry is reachable): `file:` links, as npm records them in the lockfile.
    const lockfile = {
      name: 'shop', version: '1.0.0', lockfileVersion: 3, requires: true,
      packages: {
        '': { name: 'shop', version: '1.0.0', dependencies: { tiny: 'file:vendor/tiny' }, devDependencies: { devtiny: 'file:vendor/devtiny' } },
        'node_modules/devtiny': { resolved: 'vendor/devtiny', link: true },
        'node_modules/tiny': { resolved: 'vendor/tiny', link: true },
        'vendor/devtiny': { version: '1.0.0', dev: true },
        'vendor/tiny': { version: '1.0.0' },
      },
    };
    const { req, lines } = await request(`shop-${runId}`, 'bld_1', {
      // The run id in package.json makes the first install a real one, not a cache hit from an earlier run.
      'package.json': JSON.stringify({
        name: 'shop', version: '1.0.0', description: runId, private: true,
        dependencies: { tiny: 'file:vendor/tiny' }, devDependencies: { devtiny: 'file:vendor/devtiny' },
        scripts: { build: 'node build.js', start: 'node dist/server.js' },
      }),
      'package-lock.json': JSON.stringify(lockfile),
      'vendor/tiny/package.json': JSON.stringify({ name: 'tiny', version: '1.0.0', main: 'index.js' }),
      'vendor/tiny/index.js': 'module.exports = "tiny-ok";\n',
      'vendor/devtiny/package.json': JSON.stringify({ name: 'devtiny', version: '1.0.0', main: 'index.js' }),
      'vendor/devtiny/index.js': 'module.exports = (s) => s.toUpperCase();\n',
      // The build needs the dev dependency; its output does not.
      'build.js': "require('fs').mkdirSync('dist', { recursive: true }); require('fs').writeFileSync('dist/server.js', 'console.log(' + JSON.stringify(require('devtiny')('built')) + ')\\n');\n",
      '.env': 'SECRET=env', '.env.production': 'SECRET=prod', '.env.example': 'SECRET=', '.envrc': 'export SECRET=direnv',
      '.git/HEAD': 'ref: refs/heads/main', 'node_modules/stale/index.js': 'stale',
      '.berthignore': '!.env\n!.git\n',
      '.dockerignore': '!.env*\n!.envrc\n!node_modules/\n!node_modules/**\nnotes.md\n',
      'notes.md': 'left out by .dockerignore',
    });
    const built = await buildImage({ engine, images, request: req, ownerId, nodeImage, caps });
    assert.equal(built.inferredCommand, 'node dist/server.js');
    const output = lines.join('\n');
    assert.equal(lines.filter((line) => /^added \d+ packages?/.test(line)).length, 1, `the install runs once, the other stage reuses it:\n${output}`);
    assert.match(output, /Using cache/);

    const image = await engine.inspectImage(`shop-${runId}:bld_1`);
    assert.equal(image?.Id, built.artifact);
    assert.equal(image.Labels?.[LABEL.owner], ownerId);
    assert.equal(image.Labels?.[LABEL.kind], 'image');

    const report = await run(
      built.artifact,
      [
        'echo "user $(id -u):$(id -g)"',
        'echo "app $(ls -A /app | tr "\\n" " ")"',
        'echo "modules $(ls -A /app/node_modules | tr "\\n" " ")"',
        'echo "owners $(stat -c "%u:%g:%a" /app /app/package.json /app/dist /app/dist/server.js /app/node_modules/tiny | tr "\\n" " ")"',
        'node -e "console.log(\'tiny \' + require(\'tiny\'))"',
        'node -e "require(\'devtiny\')" 2>/dev/null && echo "devtiny present" || echo "devtiny absent"',
        'node dist/server.js',
        'echo "NODE_ENV $NODE_ENV"',
        '(echo x >> /app/package.json) 2>/dev/null && echo "package.json writable" || echo "package.json read-only"',
        'rm -f /app/package.json 2>/dev/null && echo "package.json removed" || echo "package.json stays"',
        'mv /app/dist /app/moved 2>/dev/null && echo "dist moved" || echo "dist stays"',
        '(echo x > /app/dist/new.js) 2>/dev/null && echo "dist writable" || echo "dist read-only"',
        'echo beat > /app/heartbeat && echo "heartbeat written"',
      ].join('\n'),
    );
    const line = (prefix: string) => report.split('\n').find((l) => l.startsWith(prefix));
    assert.equal(line('user '), 'user 1000:1000');
    assert.equal(line('app '), 'app .berthignore .dockerignore build.js dist node_modules package-lock.json package.json vendor ', 'no .berth-build, Dockerfile, env file, .git or notes');
    assert.equal(line('modules '), 'modules .package-lock.json tiny ', 'production dependencies only, none from the uploaded node_modules');
    assert.equal(line('owners '), 'owners 0:1000:1775 0:0:644 0:0:755 0:0:644 0:0:777 ');
    for (const expected of ['tiny tiny-ok', 'devtiny absent', 'BUILT', 'NODE_ENV production', 'package.json read-only', 'package.json stays', 'dist stays', 'dist read-only', 'heartbeat written']) {
      assert.ok(report.split('\n').includes(expected), `${expected} in\n${report}`);
    }
  });

  test('a cached layer removed under the build (another build cleaned up): built again once, then it fails as usual', async () => {
    // The engine as it answers when a cache hit it resolved was deleted meanwhile; the first build call only.
    const gone = 'unable to find image "sha256:' + 'e'.repeat(64) + '"';
    let calls = 0;
    const racing: DockerEngine = Object.create(engine, {
      buildImage: {
        value: (...args: Parameters<DockerEngine['buildImage']>) => {
          calls++;
          if (calls === 1) return Promise.reject(new Error(gone));
          return engine.buildImage(...args);
        },
      },
    });
    const { req, lines } = await request(`race-${runId}`, 'bld_race', { 'Dockerfile': `FROM ${busybox}\nRUN echo ${runId} > /race\n` });
    const built = await buildImage({ engine: racing, images, request: req, ownerId, nodeImage, caps });
    assert.equal(calls, 2);
    assert.ok(lines.includes('berth: a cached layer was removed during the build; building again'), lines.join('\n'));
    assert.match(await run(built.artifact, 'cat /race'), new RegExp(runId));

    // Every call fails: a second disappearance is not retried forever.
    const failing: DockerEngine = Object.create(engine, { buildImage: { value: () => Promise.reject(new Error(gone)) } });
    const again = await request(`race-${runId}`, 'bld_race2', { 'Dockerfile': `FROM ${busybox}\nRUN echo ${runId} > /race\n` });
    await assert.rejects(buildImage({ engine: failing, images, request: again.req, ownerId, nodeImage, caps }), (e: Error & { code?: string }) => e.code === 'BUILD_FAILED');
  });

  test('a static site: its folder and the static server, nothing else', async () => {
    const { req } = await request(`site-${runId}`, 'bld_site', {
      'package.json': JSON.stringify({ name: 'site', private: true, scripts: { build: 'mkdir -p out && cp index.html out/' } }),
      'index.html': '<!doctype html><title>site</title>',
      '.env': 'SECRET=1',
    }, { staticRoot: 'out' });
    const built = await buildImage({ engine, images, request: req, ownerId, nodeImage, caps });
    const report = await run(built.artifact, 'ls -A /app /app/out /app/.berth-build | tr "\\n" " "; id -u');
    assert.equal(report, '/app: .berth-build out  /app/.berth-build: static-server.js  /app/out: index.html 1000');
  });

  test('the Dockerfile and the package files the generated one copies go in even when .dockerignore lists them', async () => {
    const own = await request(`own-${runId}`, 'bld_own', {
      'docker/App.dockerfile': `FROM ${busybox}\nCOPY hello.txt /hello.txt\n`,
      'hello.txt': 'hello',
      '.dockerignore': '*\n!hello.txt\n',
    }, { dockerfile: 'docker/App.dockerfile' });
    const built = await buildImage({ engine, images, request: own.req, ownerId, nodeImage, caps });
    assert.equal(await run(built.artifact, 'cat /hello.txt'), 'hello');
    // Which Dockerfile made the image decides how locked down its containers are (container-spec.ts).
    assert.equal((await engine.inspectImage(built.artifact))?.Labels?.[LABEL.dockerfile], 'own');

    const generated = await request(`gen-${runId}`, 'bld_gen', {
      'package.json': JSON.stringify({ name: 'gen', private: true, dependencies: { tiny: 'file:tiny' }, scripts: { start: 'node index.js' } }),
      'package-lock.json': JSON.stringify({
        name: 'gen', lockfileVersion: 3, requires: true,
        packages: { '': { name: 'gen', dependencies: { tiny: 'file:tiny' } }, 'node_modules/tiny': { resolved: 'tiny', link: true }, tiny: { version: '1.0.0' } },
      }),
      'tiny/package.json': JSON.stringify({ name: 'tiny', version: '1.0.0' }),
      'tiny/index.js': 'module.exports = "tiny"',
      'index.js': 'console.log(require("tiny"))',
      '.dockerignore': 'package*.json\n',
    });
    const app = await buildImage({ engine, images, request: generated.req, ownerId, nodeImage, caps });
    assert.equal(await run(app.artifact, 'node index.js'), 'tiny');
    assert.equal((await engine.inspectImage(app.artifact))?.Labels?.[LABEL.dockerfile], 'generated');
  });

  test('an <app>:<commit> tag on an image berth did not build stays where it is; berth\'s own tag moves', async () => {
    const app = `tags-${runId}`;
    const sha = '0a1b2c3d4e5f';
    const own = { 'Dockerfile': `FROM ${busybox}\nRUN echo ${runId} > /marker\n` };
    // Someone's image (unlabelled: berth-test/busybox carries no berth.owner) already has the tag.
    const theirs = (await engine.inspectImage(busybox))!;
    assert.equal(theirs.Labels?.[LABEL.owner], undefined);
    await engine.tagImage(busybox, app, sha);
    foreignTags.push(`${app}:${sha}`);

    const first = await request(app, 'bld_a', own, { gitSha: sha });
    const built = await buildImage({ engine, images, request: first.req, ownerId, nodeImage, caps });
    assert.equal((await engine.inspectImage(`${app}:${sha}`))?.Id, theirs.Id, 'the tag still names their image');
    assert.equal((await engine.inspectImage(`${app}:bld_a`))?.Id, built.artifact);
    assert.ok(
      first.lines.some((line) => line.startsWith(`berth: warning: did not tag ${app}:${sha}: it already names image `) && line.includes('not berth\'s')),
      first.lines.join('\n'),
    );

    // Once the tag is free, berth sets it; a later build of the same commit moves it, being berth's own.
    await engine.removeImage(`${app}:${sha}`);
    assert.equal((await engine.inspectImage(busybox))?.Id, theirs.Id, 'removing the tag left their image');
    const again = await request(app, 'bld_b', own, { gitSha: sha });
    const second = await buildImage({ engine, images, request: again.req, ownerId, nodeImage, caps });
    assert.equal((await engine.inspectImage(`${app}:${sha}`))?.Id, second.artifact);
    const third = await request(app, 'bld_c', { 'Dockerfile': `FROM ${busybox}\nRUN echo ${runId} third > /marker\n` }, { gitSha: sha });
    const moved = await buildImage({ engine, images, request: third.req, ownerId, nodeImage, caps });
    assert.notEqual(moved.artifact, second.artifact);
    assert.equal((await engine.inspectImage(`${app}:${sha}`))?.Id, moved.artifact);
    assert.ok(!third.lines.some((line) => line.includes('warning')), third.lines.join('\n'));

    // The release tag the driver sets when it starts an instance goes through the same check.
    await engine.tagImage(busybox, app, 'v1');
    foreignTags.push(`${app}:v1`);
    const release = await tagOwnImage(engine, { image: moved.artifact, ref: `${app}:v1`, ownerId });
    assert.equal(release.tagged, false);
    assert.match(release.warning!, /not berth's/);
    assert.equal((await engine.inspectImage(`${app}:v1`))?.Id, theirs.Id);
    assert.deepEqual(await tagOwnImage(engine, { image: moved.artifact, ref: `${app}:v2`, ownerId }), { ref: `${app}:v2`, tagged: true });
    assert.equal((await engine.inspectImage(`${app}:v2`))?.Id, moved.artifact);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdir, readdir, readFile, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isBerthError } from '../errors/catalogue.ts';
import { extractTarGz } from './extract.ts';
import { ENV_REASON, packDirectory, packRules, SYMLINK_REASON } from './pack.ts';
import { collect, withTempDir } from './archive.test-support.ts';

const LIMITS = { maxCompressedBytes: 50_000_000, maxBytes: 50_000_000, maxEntries: 10_000 };
const LONG = 'a-component-name-that-on-its-own-is-longer-than-the-hundred-bytes-of-the-ustar-name-field-' + 'x'.repeat(60);
const UNICODE = 'caf\u00e9-\u65e5\u672c-\u2603';

/** Every path under `dir` with its kind, executable bit and content hash, sorted. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const dirent of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(dirent.parentPath, dirent.name);
    const rel = path.slice(dir.length + 1);
    if (dirent.isDirectory()) out.push(`${rel}/`);
    else {
      const exec = (await stat(path)).mode & 0o100 ? 'x' : '-';
      out.push(`${rel} ${exec} ${createHash('sha256').update(await readFile(path)).digest('hex')}`);
    }
  }
  return out.sort();
}

async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

async function makeApp(dir: string): Promise<void> {
  await mkdir(join(dir, 'src/lib/deep/er'), { recursive: true });
  await mkdir(join(dir, 'empty-dir'));
  await mkdir(join(dir, LONG, UNICODE), { recursive: true });
  await writeFile(join(dir, 'package.json'), '{"name":"app"}\n');
  await writeFile(join(dir, 'src/index.js'), 'console.log("hi")\n');
  await writeFile(join(dir, 'src/lib/deep/er', `${LONG}.js`), 'long');
  await writeFile(join(dir, LONG, UNICODE, `${UNICODE}.txt`), 'unicode');
  await writeFile(join(dir, 'empty'), '');
  await writeFile(join(dir, 'start.sh'), '#!/bin/sh\nexec node src/index.js\n');
  await chmod(join(dir, 'start.sh'), 0o755);
  await writeFile(join(dir, 'big.bin'), randomBytes(5 * 1024 * 1024));
}

test('pack then extract gives back the same tree, exec bits included', async () => {
  await withTempDir(async (tmp) => {
    const app = join(tmp, 'app');
    await mkdir(app);
    await makeApp(app);
    const packed = await packDirectory(app);
    assert.deepEqual(packed.skipped, []);
    assert.equal(packed.files.length, 7);
    assert.equal(packed.bytes, 15 + 18 + 4 + 7 + 0 + 33 + 5 * 1024 * 1024);
    const result = await extractTarGz(packed.stream, join(tmp, 'out'), LIMITS);
    assert.deepEqual(result, { files: 7, dirs: 7, bytes: packed.bytes, skipped: { count: 0, first: [] } });
    assert.deepEqual(await snapshot(join(tmp, 'out')), await snapshot(app));
  });
});

test('packing is deterministic and sorted, folders before their contents', async () => {
  await withTempDir(async (tmp) => {
    await writeFile(join(tmp, 'b.txt'), 'b');
    await writeFile(join(tmp, 'a.txt'), 'a');
    await mkdir(join(tmp, 'c'));
    await writeFile(join(tmp, 'c', 'z'), 'z');
    const first = await packDirectory(tmp);
    assert.deepEqual(first.files, ['a.txt', 'b.txt', 'c/z']);
    const [one, two] = [await collect(first.stream), await collect((await packDirectory(tmp)).stream)];
    assert.ok(one.equals(two));
  });
});

test('GNU tar lists and extracts what pack wrote', async () => {
  await withTempDir(async (tmp) => {
    const app = join(tmp, 'app');
    await mkdir(app);
    await makeApp(app);
    const packed = await packDirectory(app);
    const archive = join(tmp, 'app.tgz');
    await writeFile(archive, await collect(packed.stream));
    const listed = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).trim().split('\n');
    const files = listed.filter((name) => !name.endsWith('/'));
    assert.deepEqual(files, packed.files);
    assert.ok(listed.includes('empty-dir/'));
    assert.ok(listed.includes(`${LONG}/${UNICODE}/`));
    await mkdir(join(tmp, 'gnu'));
    execFileSync('tar', ['-xzf', archive, '-C', join(tmp, 'gnu')]);
    assert.deepEqual(await snapshot(join(tmp, 'gnu')), await snapshot(app));
  });
});

test('default ignores, env files, .berthignore and extraIgnore', async () => {
  await withTempDir(async (app) => {
    const files: Record<string, string> = {
      '.git/HEAD': 'ref', 'node_modules/x/index.js': 'x', '.berth/state': 's', '.DS_Store': 'd', 'sub/.DS_Store': 'd',
      '.env': 'SECRET=1', '.env.local': 'SECRET=2', 'api/.env.production': 'SECRET=3', '.env.example': 'SECRET=', '.envrc': 'export SECRET=4',
      '.berthignore': '# build output\n/dist/\n*.log\n!keep.log\n', 'environment.js': 'not an env file',
      'dist/out.js': 'o', 'src/dist/kept.js': 'k', 'debug.log': 'l', 'keep.log': 'k', 'notes/todo.md': 't', 'index.js': 'i',
    };
    await writeTree(app, files);
    const packed = await packDirectory(app, { extraIgnore: ['notes/'] });
    assert.deepEqual(packed.files, ['.berthignore', 'environment.js', 'index.js', 'keep.log', 'src/dist/kept.js']);
    assert.deepEqual(packed.skipped, [
      { path: '.env', reason: ENV_REASON },
      { path: '.env.example', reason: ENV_REASON },
      { path: '.env.local', reason: ENV_REASON },
      { path: '.envrc', reason: ENV_REASON },
      { path: 'api/.env.production', reason: ENV_REASON },
    ]);
    const listed = execFileSync('tar', ['-tz'], { input: await collect(packed.stream), encoding: 'utf8' }).trim().split('\n');
    assert.ok(!listed.some((name) => name.includes('node_modules') || name.startsWith('.git') || name.includes('.DS_Store') || name.includes('.env')));
  });
});

test('no .berthignore or extra line brings back .git, node_modules or an env file; the softer defaults can be undone', async () => {
  await withTempDir(async (app) => {
    const negations = '!.env\n!.env.*\n!.envrc\n!/.env.production\n!.git\n!.git/**\n!node_modules/\n!node_modules/**\n!**\n!.DS_Store\n';
    await writeTree(app, {
      '.berthignore': negations, '.env': 'SECRET=1', '.env.production': 'SECRET=2', '.envrc': 'export SECRET=3', 'sub/.env': 'SECRET=4',
      '.git/HEAD': 'ref', 'vendored/.git': 'gitdir: ../.git/modules/vendored', 'node_modules/x/index.js': 'x', 'lib/node_modules/y.js': 'y',
      '.DS_Store': 'd', 'index.js': 'i',
    });
    const packed = await packDirectory(app, { extraIgnore: negations.split('\n') });
    assert.deepEqual(packed.files, ['.DS_Store', '.berthignore', 'index.js']);
    assert.deepEqual(packed.skipped.map((s) => s.path), ['.env', '.env.production', '.envrc', 'sub/.env']);
  });
});

test('keep: named paths go in despite the ignore files (their folders too, not the folders\' other files), never env files', async () => {
  await withTempDir(async (app) => {
    await writeTree(app, {
      'src/index.js': 'i', 'README.md': 'r',
      '.berth-build/Dockerfile': 'FROM x', '.berth-build/static-server.js': 's', '.berth-build/other.txt': 'o',
      'docker/[web]*.Dockerfile': 'FROM y', 'docker/notes.md': 'n', '.env.docker': 'SECRET=1',
    });
    const packed = await packDirectory(app, {
      extraIgnore: ['*', '!src/', '!src/**'],
      keep: ['.berth-build/Dockerfile', './.berth-build/static-server.js', 'docker/[web]*.Dockerfile', '.env.docker'],
    });
    assert.deepEqual(packed.files, ['.berth-build/Dockerfile', '.berth-build/static-server.js', 'docker/[web]*.Dockerfile', 'src/index.js']);
    assert.deepEqual(packed.skipped, [{ path: '.env.docker', reason: ENV_REASON }]);
  });
});

test('keep: an ignored folder gives up only its kept paths, whether a folder rule or a ** rule ignores it', async () => {
  await withTempDir(async (app) => {
    await writeTree(app, { 'docker/Dockerfile': 'FROM x', 'docker/secret.txt': 'SECRET', 'docker/sub/more.txt': 'm', 'src/i.js': 'i' });
    for (const extraIgnore of [['docker/'], ['docker/**'], ['/docker'], ['docker/', '!docker/secret.txt']]) {
      const packed = await packDirectory(app, { extraIgnore, keep: ['docker/Dockerfile'] });
      assert.deepEqual(packed.files, ['docker/Dockerfile', 'src/i.js'], extraIgnore.join(' '));
      const listed = execFileSync('tar', ['-tz'], { input: await collect(packed.stream), encoding: 'utf8' }).trim().split('\n');
      assert.deepEqual(listed, ['docker/', 'docker/Dockerfile', 'src/', 'src/i.js'], extraIgnore.join(' '));
    }
  });
});

test('keep: a path nested in an ignored folder brings only itself and its folders', async () => {
  await withTempDir(async (app) => {
    await writeTree(app, { 'a/b/c.txt': 'c', 'a/b/d.txt': 'd', 'a/x.txt': 'x', 'a/e/f.txt': 'f', 'top.txt': 't' });
    const packed = await packDirectory(app, { extraIgnore: ['a/'], keep: ['a/b/c.txt'] });
    assert.deepEqual(packed.files, ['a/b/c.txt', 'top.txt']);
  });
});

test('keep: an env file, or anything in node_modules or .git, stays out even when kept', async () => {
  await withTempDir(async (app) => {
    await writeTree(app, { 'docker/.env': 'SECRET=1', 'node_modules/x/Dockerfile': 'FROM n', '.git/Dockerfile': 'FROM g', 'i.js': 'i' });
    await mkdir(join(app, 'cfg/.env.d'), { recursive: true });
    await writeFile(join(app, 'cfg/.env.d/app.conf'), 'SECRET=3');
    const packed = await packDirectory(app, {
      extraIgnore: ['docker/', 'cfg/'],
      keep: ['docker/.env', 'cfg/.env.d/app.conf', 'node_modules/x/Dockerfile', '.git/Dockerfile'],
    });
    assert.deepEqual(packed.files, ['i.js']);
    assert.deepEqual(packed.skipped, [{ path: 'cfg/.env.d', reason: ENV_REASON }, { path: 'docker/.env', reason: ENV_REASON }]);
  });
});

test('packRules: defaults, .berthignore, extra patterns, then the exclusions nothing undoes', () => {
  const { rules, always, envRules } = packRules({ berthignore: 'dist/\n!.env\n', extraIgnore: ['*.log'] });
  assert.deepEqual(rules.map((rule) => rule.source), ['.berth/', '.DS_Store', 'dist/', '!.env', '*.log', '.git', 'node_modules', '.env*']);
  assert.deepEqual(always, rules.slice(-3));
  assert.deepEqual(envRules.map((rule) => rule.source), ['.env*']);
  assert.equal(rules.at(-1), envRules[0]);
});

test('links, special files and names extraction would refuse are skipped and reported', async () => {
  await withTempDir(async (app) => {
    await writeFile(join(app, 'real.txt'), 'real');
    await symlink('real.txt', join(app, 'link.txt'));
    await symlink('/etc', join(app, 'etc-link'));
    await symlink('missing', join(app, 'dangling'));
    execFileSync('mkfifo', [join(app, 'pipe')]);
    await writeFile(join(app, 'back\\slash'), 'x');
    const packed = await packDirectory(app);
    assert.deepEqual(packed.files, ['real.txt']);
    assert.deepEqual(packed.skipped, [
      { path: 'back\\slash', reason: 'berth cannot upload this name: the name contains a backslash (a Windows path separator)' },
      { path: 'dangling', reason: SYMLINK_REASON },
      { path: 'etc-link', reason: SYMLINK_REASON },
      { path: 'link.txt', reason: SYMLINK_REASON },
      { path: 'pipe', reason: 'not a regular file (FIFO)' },
    ]);
    const tar = gunzipSync(await collect(packed.stream));
    assert.equal(tar.length, 512 + 512 + 1024);
  });
});

test('a file that changes size while packing fails the stream', async () => {
  // 8 MB: far more than the stream buffers before it is read, so the change always lands mid-file.
  await withTempDir(async (app) => {
    await writeFile(join(app, 'shrinks'), randomBytes(8 * 1024 * 1024));
    const packed = await packDirectory(app);
    await truncate(join(app, 'shrinks'), 10);
    await assert.rejects(collect(packed.stream), /shrank while it was being packed/);
  });
  await withTempDir(async (app) => {
    await writeFile(join(app, 'grows'), randomBytes(8 * 1024 * 1024));
    const packed = await packDirectory(app);
    await appendFile(join(app, 'grows'), randomBytes(1024 * 1024));
    await assert.rejects(collect(packed.stream), /grew while it was being packed/);
  });
});

test('packing something that is not a folder is a usage error', async () => {
  await withTempDir(async (tmp) => {
    await writeFile(join(tmp, 'file'), 'x');
    for (const dir of [join(tmp, 'file'), join(tmp, 'missing')]) {
      await assert.rejects(packDirectory(dir), (error: unknown) => isBerthError(error) && error.code === 'USAGE' && /not a folder/.test(error.message));
    }
  });
});

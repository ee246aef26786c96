import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isBerthError } from '../errors/catalogue.ts';
import { extractTarGz, type ExtractLimits } from './extract.ts';
import { computeChecksum, encodeHeader } from './tar-format.ts';
import { buildTar, chunked, listNames, withTempDir, type RawEntry } from './archive.test-support.ts';

const LIMITS: ExtractLimits = { maxCompressedBytes: 10_000_000, maxBytes: 10_000_000, maxEntries: 1000 };
const OK: RawEntry = { name: 'ok.txt', data: 'fine' };

/** Runs an extraction that must fail, and checks that the folders around the target are exactly as before. */
async function expectFailure(upload: Buffer, code: string, message: RegExp, limits: ExtractLimits = LIMITS): Promise<void> {
  await withTempDir(async (root) => {
    const parent = join(root, 'uploads');
    await mkdir(parent);
    await writeFile(join(parent, 'keep.txt'), 'untouched');
    const error = await extractTarGz(chunked(upload), join(parent, 'release'), limits).then(
      () => assert.fail('extraction should have failed'),
      (error: unknown) => error,
    );
    assert.ok(isBerthError(error), `not a BerthError: ${error}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    assert.deepEqual(await listNames(root), ['uploads']);
    assert.deepEqual(await listNames(parent), ['keep.txt']);
    assert.equal(await readFile(join(parent, 'keep.txt'), 'utf8'), 'untouched');
  });
}

const unsafe = (entries: RawEntry[], message: RegExp) => expectFailure(gzipSync(buildTar(entries)), 'ARCHIVE_UNSAFE_ENTRY', message);
const invalid = (upload: Buffer, message: RegExp, limits?: ExtractLimits) => expectFailure(upload, 'ARCHIVE_INVALID', message, limits);

test('refuses paths that climb out of the folder', async () => {
  await unsafe([OK, { name: '../evil', data: 'x' }], /"\.\.\/evil".*"\.\." segment/);
  await unsafe([OK, { name: 'a/../../evil', data: 'x' }], /"a\/\.\.\/\.\.\/evil".*"\.\." segment/);
  await unsafe([OK, { name: '../', typeflag: '5' }], /"\.\.\/".*"\.\." segment/);
  await unsafe([OK, { name: './../evil', data: 'x' }], /"\.\/\.\.\/evil".*"\.\." segment/);
});

test('refuses absolute paths, drive letters, backslashes, NUL bytes and empty names', async () => {
  await unsafe([OK, { name: '/etc/evil', data: 'x' }], /"\/etc\/evil".*absolute/);
  await unsafe([OK, { name: 'innocent', pax: { path: '/etc/evil' }, data: 'x' }], /"\/etc\/evil".*absolute/);
  await unsafe([OK, { name: 'C:/evil', data: 'x' }], /"C:\/evil".*drive letter/);
  await unsafe([OK, { name: '..\\evil', data: 'x' }], /backslash/);
  await unsafe([OK, { name: 'innocent', pax: { path: 'a\0b' }, data: 'x' }], /NUL byte/);
  await unsafe([OK, { name: '', data: 'x' }], /"": the name is empty/);
  await unsafe([OK, { name: './', data: 'x' }], /ends with "\/"/);
});

test('refuses a PAX path or GNU long name that climbs out', async () => {
  await unsafe([OK, { name: 'innocent', pax: { path: '../evil' }, data: 'x' }], /"\.\.\/evil".*"\.\." segment/);
  await unsafe([OK, { name: 'innocent', longName: '../evil', data: 'x' }], /"\.\.\/evil".*"\.\." segment/);
  await unsafe([OK, { name: 'innocent', longName: 'x/'.repeat(60) + '../../evil', data: 'x' }], /"\.\." segment/);
});

test('refuses links, devices, FIFOs and unknown entry types', async () => {
  await unsafe([OK, { name: 'link', typeflag: '2', linkname: '/etc/passwd' }], /"link".*symbolic link to "\/etc\/passwd"/);
  await unsafe([OK, { name: 'link', typeflag: '2', pax: { linkpath: '../../x' } }], /symbolic link to "\.\.\/\.\.\/x"/);
  await unsafe([OK, { name: 'hard', typeflag: '1', linkname: 'ok.txt' }], /"hard".*hard link to "ok\.txt"/);
  await unsafe([OK, { name: 'tty', typeflag: '3', devmajor: 4, devminor: 1 }], /"tty".*character device/);
  await unsafe([OK, { name: 'sda', typeflag: '4', devmajor: 8 }], /"sda".*block device/);
  await unsafe([OK, { name: 'pipe', typeflag: '6' }], /"pipe".*FIFO/);
  await unsafe([OK, { name: '././@LongLink', typeflag: 'K', data: '/etc/passwd\0' }], /GNU long link/);
  await unsafe([OK, { name: 'vol', typeflag: 'V' }], /"vol".*unsupported entry type 'V'/);
  await unsafe([OK, { name: 'sparse', pax: { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0' }, data: 'x' }], /"sparse".*sparse file/);
});

test('refuses two entries for one path, and paths through files', async () => {
  await unsafe([OK, { name: 'ok.txt', data: 'again' }], /"ok\.txt".*already extracted as a file/);
  await unsafe([OK, { name: './ok.txt', data: 'again' }], /"\.\/ok\.txt".*already extracted as a file/);
  await unsafe([OK, { name: 'ok.txt/', typeflag: '5' }], /"ok\.txt\/".*already extracted as a file/);
  await unsafe([OK, { name: 'ok.txt/sub/', typeflag: '5' }], /"ok\.txt\/sub\/".*parent "ok\.txt" is a file/);
  await unsafe([OK, { name: 'ok.txt/inner', data: 'x' }], /"ok\.txt\/inner".*parent "ok\.txt" is a file/);
  await unsafe([{ name: 'd/', typeflag: '5' }, { name: 'd', data: 'x' }], /"d".*already extracted as a directory/);
  await unsafe([{ name: 'd/f', data: 'x' }, { name: 'd', data: 'x' }], /"d".*already extracted as a directory/);
});

test('refuses an upload that is not gzip', async () => {
  await invalid(buildTar([OK]), /not gzip-compressed/);
  await invalid(Buffer.from('{"json": true}'), /not gzip-compressed/);
  await invalid(Buffer.alloc(0), /upload is empty/);
});

test('refuses gzip of garbage, and corrupt or truncated gzip', async () => {
  await invalid(gzipSync(randomBytes(5000)), /checksum does not match/);
  await invalid(gzipSync(Buffer.from('hello world, not a tar')), /ends in the middle of a header/);
  const good = gzipSync(buildTar([OK, { name: 'big', data: randomBytes(20_000) }]));
  await invalid(good.subarray(0, good.length - 20), /gzip stream is truncated/);
  const corrupt = Buffer.from(good);
  corrupt[corrupt.length - 6] ^= 0xff; // the CRC in the trailer
  await invalid(corrupt, /gzip data is corrupt/);
  await invalid(Buffer.concat([good, Buffer.from('trailing garbage')]), /gzip data is corrupt/);
});

test('refuses a tar truncated in the middle of a file or a header', async () => {
  const tar = buildTar([OK, { name: 'big.bin', data: randomBytes(5000) }]);
  await invalid(gzipSync(tar.subarray(0, 1024 + 512 + 1000)), /ends in the middle of the data of "big\.bin" \(truncated\)/);
  await invalid(gzipSync(tar.subarray(0, 1024 + 100)), /ends in the middle of a header/);
});

test('refuses a header with a bad checksum', async () => {
  const tar = buildTar([OK, { name: 'second', data: 'x' }]);
  tar[1024 + 10] ^= 0x01; // a byte of the second header's name
  await invalid(gzipSync(tar), /header checksum does not match/);
});

test('refuses malformed structure', async () => {
  await invalid(gzipSync(buildTar([OK, { name: 'dir/', typeflag: '5', data: 'sneaky' }])), /directory entry "dir\/" has a size of 6/);
  const endAfterPax = Buffer.concat([buildTar([OK], { end: false }), buildTar([{ name: 'x', pax: { path: 'y' } }]).subarray(0, 1024)]);
  await invalid(gzipSync(endAfterPax), /extended header without its entry/);
  await invalid(gzipSync(Buffer.concat([buildTar([OK]), buildTar([{ name: 'hidden', data: 'x' }])])), /data after the end-of-archive marker/);
  await invalid(gzipSync(Buffer.concat([buildTar([OK]), Buffer.alloc(2 * 1024 * 1024)])), /padding follow the end-of-archive marker/);
  await invalid(gzipSync(buildTar([{ name: 'p', pax: { comment: 'x'.repeat(1024 * 1024 + 1) }, data: '' }])), /extended header of \d+ bytes is larger/);
  const metaRun = Array.from({ length: 9 }, () => ({ name: 'g', typeflag: 'g', data: '' }));
  await invalid(gzipSync(buildTar([...metaRun, OK])), /more than 8 extended headers in a row/);
  await invalid(gzipSync(buildTar([{ name: 'p', pax: { size: '12abc' }, data: '' }])), /PAX size "12abc"/);
});

test('refuses names that are not UTF-8', async () => {
  const tar = buildTar([OK, { name: 'bad-name', data: 'x' }]);
  tar[1024 + 3] = 0xff;
  tar.write(computeChecksum(tar.subarray(1024, 1536)).toString(8).padStart(6, '0') + '\0 ', 1024 + 148, 'latin1');
  await expectFailure(gzipSync(tar), 'ARCHIVE_UNSAFE_ENTRY', /"bad\ufffdname".*not valid UTF-8/);
});

test('enforces maxBytes from the declared sizes, naming the limit', async () => {
  const archive = gzipSync(buildTar([OK, { name: 'big.bin', data: Buffer.alloc(3000) }]));
  await invalid(archive, /more than 2000 bytes \(limit maxBytes\)/, { ...LIMITS, maxBytes: 2000 });
  // The declared size is enough: the data need not even be there.
  const lying = gzipSync(Buffer.concat([encodeHeader({ name: 'bomb', typeflag: '0', size: 50_000_000_000 }), Buffer.alloc(512)]));
  await invalid(lying, /limit maxBytes/);
});

test('enforces maxEntries, naming the limit', async () => {
  const entries = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, data: 'x' }));
  await invalid(gzipSync(buildTar(entries)), /more than 10 entries \(limit maxEntries\)/, { ...LIMITS, maxEntries: 10 });
});

test('enforces maxCompressedBytes on the upload as sent', async () => {
  const archive = gzipSync(buildTar([{ name: 'noise', data: randomBytes(50_000) }]));
  await expectFailure(archive, 'BODY_TOO_LARGE', /larger than the limit of 20000 bytes/, { ...LIMITS, maxCompressedBytes: 20_000 });
});

test('refuses a target that already exists and leaves it alone', async () => {
  await withTempDir(async (parent) => {
    const target = join(parent, 'release');
    await mkdir(target);
    await writeFile(join(target, 'mine'), 'x');
    await assert.rejects(extractTarGz(chunked(gzipSync(buildTar([OK]))), target, LIMITS), (error: unknown) => {
      assert.ok(isBerthError(error) && error.code === 'INTERNAL');
      // The API shows the message: paths on the server stay in the cause, for the server log.
      assert.ok(!error.message.includes(parent), `the message names a server path: ${error.message}`);
      assert.match(String((error.cause as Error).message), new RegExp(`cannot extract into ${target}`));
      return true;
    });
    assert.deepEqual(await listNames(parent), ['release']);
    assert.deepEqual(await listNames(target), ['mine']);
  });
});

test('refuses limits that are not numbers instead of treating them as no limit', async () => {
  await withTempDir(async (parent) => {
    const limits = { maxCompressedBytes: 1000, maxEntries: 10 } as unknown as ExtractLimits;
    await assert.rejects(extractTarGz(chunked(gzipSync(buildTar([OK]))), join(parent, 'r'), limits), /maxBytes/);
    assert.deepEqual(await listNames(parent), []);
  });
});

test('stops reading the upload at the first bad entry', async () => {
  const archive = gzipSync(buildTar([{ name: '../evil', data: 'x' }, { name: 'noise', data: randomBytes(2_000_000) }]));
  let pulled = 0;
  async function* counting() {
    for await (const chunk of chunked(archive, 16 * 1024)) {
      pulled += chunk.length;
      yield chunk;
    }
  }
  await withTempDir(async (parent) => {
    await assert.rejects(extractTarGz(counting(), join(parent, 'r'), LIMITS), /"\.\.\/evil"/);
    assert.ok(pulled < archive.length / 2, `read ${pulled} of ${archive.length} bytes`);
  });
});

test('over HTTP, a refused upload leaves the request readable so the handler can still answer', async () => {
  // Big enough that the server has not received it all when the limit trips.
  const archive = gzipSync(buildTar([{ name: 'noise', data: randomBytes(2_000_000) }]));
  await withTempDir(async (parent) => {
    const server = createServer((request, response) => {
      extractTarGz(request, join(parent, 'release'), { ...LIMITS, maxCompressedBytes: 20_000 }).then(
        () => response.end('extracted'),
        (error: { code: string }) => {
          const destroyed = request.destroyed;
          request.resume(); // discard the rest, as a handler would before answering
          response.writeHead(413, { connection: 'close' }).end(`${error.code} destroyed=${destroyed}`);
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: archive });
      assert.equal(response.status, 413);
      assert.equal(await response.text(), 'BODY_TOO_LARGE destroyed=false');
      assert.deepEqual(await listNames(parent), []);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

test('extracts files and folders with normalised modes and mtimes', async () => {
  const tar = buildTar([
    { name: './', typeflag: '5', mode: 0o777 },
    { name: './bin/', typeflag: '5', mode: 0o700 },
    { name: './bin/run', data: '#!/bin/sh\n', mode: 0o4777, mtime: 1_600_000_000 },
    { name: 'bin/tool', data: 'x', mode: 0o100 },
    { name: 'readme.md', data: 'hello', mode: 0o666 },
    { name: 'private', data: 'p', mode: 0o600, uid: 0, gid: 0, uname: 'root' },
    { name: 'contiguous', data: 'c', typeflag: '7' },
    { name: 'implied/deep/file.txt', data: 'deep' },
    { name: 'empty', data: '' },
    { name: 'pax-named', pax: { path: 'caf\u00e9/' + 'n'.repeat(150), mtime: '1500000000.25' }, data: 'pax' },
    { name: '././@LongLink', typeflag: 'g', data: '' },
    { name: 'gnu-named', longName: 'long/' + 'l'.repeat(200), data: 'gnu' },
  ]);
  await withTempDir(async (parent) => {
    const target = join(parent, 'release');
    const result = await extractTarGz(chunked(gzipSync(tar), 7), target, LIMITS);
    assert.deepEqual(result, { files: 9, dirs: 5, bytes: 10 + 1 + 5 + 1 + 1 + 4 + 3 + 3, skipped: { count: 0, first: [] } });
    assert.deepEqual(await listNames(parent), ['release']);
    assert.deepEqual(await listNames(target), ['bin', 'caf\u00e9', 'contiguous', 'empty', 'implied', 'long', 'private', 'readme.md']);
    const mode = async (path: string) => (await stat(join(target, path))).mode & 0o7777;
    assert.equal(await mode('.'), 0o755);
    assert.equal(await mode('bin'), 0o755);
    assert.equal(await mode('bin/run'), 0o755);
    assert.equal(await mode('bin/tool'), 0o755);
    assert.equal(await mode('readme.md'), 0o644);
    assert.equal(await mode('private'), 0o644);
    assert.equal(await mode('implied/deep'), 0o755);
    assert.equal((await stat(join(target, 'bin/run'))).mtimeMs, 1_600_000_000_000);
    assert.equal((await stat(join(target, 'caf\u00e9', 'n'.repeat(150)))).mtimeMs, 1_500_000_000_250);
    assert.equal(await readFile(join(target, 'long', 'l'.repeat(200)), 'utf8'), 'gnu');
    assert.equal(await readFile(join(target, 'implied/deep/file.txt'), 'utf8'), 'deep');
    assert.equal((await stat(join(target, 'empty'))).size, 0);
  });
});

test('end of archive: missing end blocks at a header boundary, one zero block and record padding are fine', async () => {
  const cases: [Buffer, number][] = [
    [buildTar([OK], { end: false }), 1],
    [Buffer.concat([buildTar([OK], { end: false }), Buffer.alloc(512)]), 1],
    [Buffer.concat([buildTar([OK]), Buffer.alloc(10240 - 2048)]), 1],
    [Buffer.alloc(1024), 0], // an empty archive is valid: the caller decides whether empty is acceptable
    [Buffer.alloc(0), 0],
  ];
  for (const [tar, files] of cases) {
    await withTempDir(async (parent) => {
      const result = await extractTarGz(chunked(gzipSync(tar), 1), join(parent, 'r'), LIMITS);
      assert.equal(result.files, files);
      assert.deepEqual(await listNames(parent), ['r']);
    });
  }
});

test('reads archives made by GNU tar: gnu, pax and ustar formats, with ./ and long names', async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, 'src');
    const long = 'a-file-name-that-is-much-longer-than-one-hundred-bytes-'.repeat(3) + '.txt';
    await mkdir(join(src, 'nested/deeper'), { recursive: true });
    await writeFile(join(src, 'nested/deeper', long), 'long name');
    await writeFile(join(src, 'nested/h\u00e9llo.txt'), 'unicode');
    await writeFile(join(src, 'run.sh'), '#!/bin/sh\necho hi\n');
    await chmod(join(src, 'run.sh'), 0o755);
    const split = `${'p'.repeat(70)}/${'q'.repeat(70)}.txt`; // over 100 bytes: ustar stores it in prefix + name
    await mkdir(join(src, 'p'.repeat(70)));
    await writeFile(join(src, split), 'split');
    await writeFile(join(src, 'nested/old.txt'), 'from 1960');
    execFileSync('touch', ['-d', '1960-01-01', join(src, 'nested/old.txt')]); // GNU tar writes a negative base-256 (or PAX) mtime
    for (const format of ['gnu', 'pax', 'ustar']) {
      const archive = join(dir, `${format}.tgz`);
      const names = format === 'ustar' ? ['nested/h\u00e9llo.txt', 'run.sh', split] : ['.'];
      execFileSync('tar', [`--format=${format}`, '-C', src, '-czf', archive, ...names]);
      const target = join(dir, `out-${format}`);
      await extractTarGz(createReadStream(archive), target, LIMITS);
      assert.equal(await readFile(join(target, 'run.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
      assert.equal((await stat(join(target, 'run.sh'))).mode & 0o777, 0o755);
      assert.equal(await readFile(join(target, 'nested/h\u00e9llo.txt'), 'utf8'), 'unicode');
      assert.equal(await readFile(join(target, split), 'utf8'), 'split');
      if (format === 'ustar') continue; // ustar holds neither the long name nor the pre-1970 time
      assert.equal(await readFile(join(target, 'nested/deeper', long), 'utf8'), 'long name');
      assert.equal(await readFile(join(target, 'nested/old.txt'), 'utf8'), 'from 1960');
    }
  });
});

test('reads `git archive` output: a PAX global header first, PAX names for long paths', async () => {
  await withTempDir(async (dir) => {
    const repo = join(dir, 'repo');
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo });
    await mkdir(repo);
    git('init', '-q');
    git('commit', '-q', '--allow-empty', '-m', 'empty');
    const empty = execFileSync('git', ['archive', '--format=tar.gz', 'HEAD'], { cwd: repo });
    assert.deepEqual(await extractTarGz(chunked(empty), join(dir, 'empty'), LIMITS), { files: 0, dirs: 0, bytes: 0, skipped: { count: 0, first: [] } });

    const long = `${'d'.repeat(80)}/${'f'.repeat(80)}.txt`;
    await mkdir(join(repo, 'd'.repeat(80)));
    await writeFile(join(repo, long), 'long');
    await writeFile(join(repo, 'run.sh'), 'echo hi\n');
    await chmod(join(repo, 'run.sh'), 0o755);
    git('add', '.');
    git('commit', '-q', '-m', 'files');
    const archive = execFileSync('git', ['archive', '--format=tar.gz', 'HEAD'], { cwd: repo });
    const target = join(dir, 'out');
    assert.deepEqual(await extractTarGz(chunked(archive), target, LIMITS), { files: 2, dirs: 1, bytes: 12, skipped: { count: 0, first: [] } });
    assert.equal(await readFile(join(target, long), 'utf8'), 'long');
    assert.equal((await stat(join(target, 'run.sh'))).mode & 0o777, 0o755);
  });
});

test('leaves out what no upload may hold (pack.ts ALWAYS_IGNORE, ENV_IGNORE) at any depth, and counts it', async () => {
  await withTempDir(async (dir) => {
    const left = ['.env', '.env.production', '.envrc', 'config/.env.local', '.git/', '.git/config', 'lib/sub/.git', 'node_modules/x/index.js'];
    const entries: RawEntry[] = [
      { name: 'app.js', data: 'ok' },
      { name: '.env', data: 'SECRET=1' },
      { name: '.env.production', data: 'SECRET=2' },
      { name: '.envrc', data: 'export SECRET=3' },
      { name: 'config/.env.local', data: 'SECRET=4' },
      { name: 'config/settings.json', data: '{}' },
      { name: '.git/', typeflag: '5' },
      { name: '.git/config', data: '[core]' },
      // `.git` is a file in a submodule or worktree
      { name: 'lib/sub/.git', data: 'gitdir: ../../.git/modules/sub' },
      { name: 'lib/sub/index.js', data: 'ok' },
      { name: 'node_modules/x/index.js', data: 'vendored' },
      { name: 'environment.md', data: 'not an env file' },
    ];
    const target = join(dir, 'out');
    const result = await extractTarGz(chunked(gzipSync(buildTar(entries))), target, LIMITS);
    assert.deepEqual(result.skipped, { count: left.length, first: left.map((name) => name.replace(/\/$/, '')) });
    assert.deepEqual(await listNames(target), ['app.js', 'config', 'environment.md', 'lib']);
    assert.deepEqual(await listNames(join(target, 'config')), ['settings.json']);
    assert.deepEqual(await listNames(join(target, 'lib', 'sub')), ['index.js']);
    assert.equal(result.files, 4);
  });
});

test('a full disk is DISK_FULL naming what failed, not an internal error, and nothing is left behind', async (t) => {
  // A 256 KB tmpfs is a disk that fills up for real (root only: where it cannot be mounted, say so).
  const mountPoint = await mkdtemp(join(tmpdir(), 'berth-tiny-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint], { stdio: 'ignore' });
  } catch {
    await rm(mountPoint, { recursive: true, force: true });
    t.skip('cannot mount a small tmpfs here (needs root): the full-disk path is not exercised');
    return;
  }
  try {
    const upload = gzipSync(buildTar([{ name: 'big.bin', data: randomBytes(1024 * 1024).toString('latin1') }]));
    const error = await extractTarGz(chunked(upload), join(mountPoint, 'release'), LIMITS).then(
      () => assert.fail('extraction should have failed'),
      (error: unknown) => error,
    );
    assert.ok(isBerthError(error), `not a BerthError: ${error}`);
    assert.equal(error.code, 'DISK_FULL', error.message);
    assert.match(error.message, /disk is full: writing the upload/);
    assert.doesNotMatch(error.message, new RegExp(mountPoint), 'no server path in the message');
    assert.deepEqual(await readdir(mountPoint), []);
  } finally {
    execFileSync('umount', [mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
  }
});

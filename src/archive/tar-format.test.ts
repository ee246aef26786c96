import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/catalogue.ts';
import { computeChecksum, decodeHeader, decodeLongName, decodePax, encodeHeader, encodePax, isAllZeros, paddingFor } from './tar-format.ts';

const rejects = (run: () => unknown, code: string, pattern: RegExp) =>
  assert.throws(run, (error: unknown) => isBerthError(error) && error.code === code && pattern.test(error.message));

test('a header survives encode and decode', () => {
  const block = encodeHeader({ name: 'dir/file.txt', typeflag: '0', mode: 0o755, uid: 1000, gid: 100, size: 1234, mtime: 1_700_000_000, uname: 'me', gname: 'staff' });
  assert.equal(block.length, 512);
  assert.deepEqual(decodeHeader(block), {
    name: 'dir/file.txt', mode: 0o755, uid: 1000, gid: 100, size: 1234, mtime: 1_700_000_000, typeflag: '0',
    linkname: '', format: 'ustar', uname: 'me', gname: 'staff', devmajor: 0, devminor: 0,
  });
});

test('the ustar prefix joins the name; the GNU format has no prefix', () => {
  assert.equal(decodeHeader(encodeHeader({ name: 'file', prefix: 'a/b', typeflag: '0' }))!.name, 'a/b/file');
  const gnu = encodeHeader({ name: 'file', typeflag: '0', format: 'gnu' });
  gnu.write('junk', 345, 'latin1'); // GNU keeps atime/ctime here
  gnu.write(computeChecksum(gnu).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  const header = decodeHeader(gnu)!;
  assert.equal(header.name, 'file');
  assert.equal(header.format, 'gnu');
});

test('an all-zero block is the end marker', () => {
  assert.equal(decodeHeader(Buffer.alloc(512)), undefined);
  assert.equal(isAllZeros(Buffer.alloc(512)), true);
});

test('typeflag NUL (pre-POSIX regular file) reads as 0', () => {
  const block = encodeHeader({ name: 'old', typeflag: '0' });
  block[156] = 0;
  block.write(computeChecksum(block).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  assert.equal(decodeHeader(block)!.typeflag, '0');
});

test('a wrong checksum is ARCHIVE_INVALID', () => {
  const block = encodeHeader({ name: 'file', typeflag: '0', size: 5 });
  block[0] ^= 1;
  rejects(() => decodeHeader(block), 'ARCHIVE_INVALID', /checksum/);
  rejects(() => decodeHeader(Buffer.alloc(512, 'x')), 'ARCHIVE_INVALID', /checksum/);
});

test('a checksum summed over signed bytes is accepted, as GNU tar does', () => {
  const block = encodeHeader({ name: 'caf\u00e9', typeflag: '0' });
  block.write(computeChecksum(block, true).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  assert.equal(decodeHeader(block)!.name, 'caf\u00e9');
});

test('numbers: space-padded octal and base-256 decode; large sizes encode as base-256', () => {
  const block = encodeHeader({ name: 'f', typeflag: '0' });
  block.write('   1750 \0\0\0\0', 124, 12, 'latin1');
  block.write(computeChecksum(block).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  assert.equal(decodeHeader(block)!.size, 0o1750);

  const tenGiB = 10 * 1024 ** 3;
  const big = encodeHeader({ name: 'big', typeflag: '0', size: tenGiB });
  assert.equal(big[124], 0x80);
  assert.equal(decodeHeader(big)!.size, tenGiB);

  // GNU tar's layout: 0x80, then the value big-endian in the remaining 11 bytes.
  const gnu = encodeHeader({ name: 'huge', typeflag: '0' });
  gnu.fill(0, 124, 136);
  gnu[124] = 0x80;
  gnu.writeUIntBE(2 ** 40 + 7, 130, 6);
  gnu.write(computeChecksum(gnu).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  assert.equal(decodeHeader(gnu)!.size, 2 ** 40 + 7);
});

test('negative base-256 numbers decode (GNU tar writes them for mtimes before 1970)', () => {
  const block = encodeHeader({ name: 'old', typeflag: '0' });
  Buffer.alloc(12, 0xff).copy(block, 136);
  block[147] = 0xfe; // -2
  block.write(computeChecksum(block).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  assert.equal(decodeHeader(block)!.mtime, -2);
});

test('negative sizes, oversized and non-octal numbers are ARCHIVE_INVALID', () => {
  const corrupt = (bytes: number[] | string) => {
    const block = encodeHeader({ name: 'f', typeflag: '0' });
    if (typeof bytes === 'string') block.write(bytes.padEnd(12, '\0'), 124, 12, 'latin1');
    else Buffer.from(bytes).copy(block, 124);
    block.write(computeChecksum(block).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    return block;
  };
  rejects(() => decodeHeader(corrupt([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe])), 'ARCHIVE_INVALID', /size/);
  rejects(() => decodeHeader(corrupt([0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), 'ARCHIVE_INVALID', /size/);
  rejects(() => decodeHeader(corrupt('12x4')), 'ARCHIVE_INVALID', /size/);
});

test('names that are not UTF-8 are refused rather than mangled', () => {
  const block = encodeHeader({ name: 'ok', typeflag: '0' });
  block[2] = 0xff;
  block.write(computeChecksum(block).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  rejects(() => decodeHeader(block), 'ARCHIVE_UNSAFE_ENTRY', /not valid UTF-8/);
});

test('text fields that do not fit are a RangeError when encoding', () => {
  assert.throws(() => encodeHeader({ name: 'x'.repeat(101), typeflag: '0' }), RangeError);
});

test('PAX records round trip, including the length that gains a digit', () => {
  for (let n = 80; n < 120; n++) {
    const records = { path: 'p'.repeat(n), mtime: '1700000000.5' };
    const data = encodePax(records);
    assert.deepEqual(Object.fromEntries(decodePax(data)), records);
    const first = data.toString('utf8').split('\n')[0] + '\n';
    assert.equal(Number(first.split(' ')[0]), Buffer.byteLength(first));
  }
  assert.equal(decodePax(encodePax({ path: 'h\u00e9llo/w\u00f6rld \u2603=\n' })).get('path'), 'h\u00e9llo/w\u00f6rld \u2603=\n');
});

test('later PAX records win and trailing NULs are ignored', () => {
  const data = Buffer.concat([encodePax({ path: 'a' }), encodePax({ path: 'b' }), Buffer.alloc(10)]);
  assert.equal(decodePax(data).get('path'), 'b');
});

test('malformed PAX data is ARCHIVE_INVALID', () => {
  for (const bad of ['8 path=a\n', '12 path=abc', 'x path=a\n', '5 =a\n\n', '0 a=b\n']) {
    rejects(() => decodePax(Buffer.from(bad)), 'ARCHIVE_INVALID', /PAX/);
  }
  rejects(() => decodePax(Buffer.from([0x38, 0x20, 0x70, 0x3d, 0xff, 0xfe, 0xfd, 0x0a])), 'ARCHIVE_INVALID', /UTF-8/);
});

test('GNU long names drop their NUL terminator', () => {
  assert.equal(decodeLongName(Buffer.from('a/very/long/name\0')), 'a/very/long/name');
  assert.equal(decodeLongName(Buffer.from('keeps\0inner\0')), 'keeps\0inner');
});

test('padding fills to the next block', () => {
  assert.deepEqual([0, 1, 511, 512, 513].map(paddingFor), [0, 511, 1, 0, 511]);
});

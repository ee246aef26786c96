import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHeader, decodePax } from './tar-format.ts';
import { entryHeaders } from './tar-writer.ts';

const file = { type: 'file' as const, size: 10, mode: 0o644, mtime: 1_700_000_000.9 };

test('short ASCII names get one plain ustar header', () => {
  const blocks = entryHeaders({ ...file, path: 'src/index.js' });
  assert.equal(blocks.length, 512);
  const header = decodeHeader(blocks)!;
  assert.deepEqual([header.name, header.typeflag, header.size, header.mode, header.mtime, header.format], ['src/index.js', '0', 10, 0o644, 1_700_000_000, 'ustar']);
  assert.equal(decodeHeader(entryHeaders({ path: 'lib', type: 'dir', size: 0, mode: 0o755, mtime: 0 }))!.name, 'lib/');
});

test('long and non-ASCII names go in a PAX header before the entry', () => {
  for (const path of ['x'.repeat(101), 'caf\u00e9.txt', `${'d'.repeat(99)}/f`]) {
    const blocks = entryHeaders({ ...file, path });
    const pax = decodeHeader(blocks.subarray(0, 512))!;
    assert.equal(pax.typeflag, 'x');
    const records = decodePax(blocks.subarray(512, 512 + pax.size));
    assert.equal(records.get('path'), path);
    const header = decodeHeader(blocks.subarray(blocks.length - 512))!;
    assert.equal(header.typeflag, '0');
    assert.ok(Buffer.byteLength(header.name) <= 100 && /^[\x20-\x7e]+$/.test(header.name), header.name);
  }
  const dir = entryHeaders({ path: 'd'.repeat(120), type: 'dir', size: 0, mode: 0o755, mtime: 0 });
  assert.equal(decodePax(dir.subarray(512, 1024)).get('path'), `${'d'.repeat(120)}/`);
  assert.ok(decodeHeader(dir.subarray(dir.length - 512))!.name.endsWith('/'));
});

test('files over 8 GiB carry a PAX size and a base-256 size field', () => {
  const size = 9 * 1024 ** 3;
  const blocks = entryHeaders({ ...file, path: 'huge.bin', size });
  const pax = decodeHeader(blocks.subarray(0, 512))!;
  assert.equal(decodePax(blocks.subarray(512, 512 + pax.size)).get('size'), String(size));
  assert.equal(decodeHeader(blocks.subarray(blocks.length - 512))!.size, size);
});

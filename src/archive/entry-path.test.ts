import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entryPath } from './entry-path.ts';

const accepted: [string, 'file' | 'dir', string | undefined][] = [
  ['a.txt', 'file', 'a.txt'],
  ['./a.txt', 'file', 'a.txt'],
  ['././a/b', 'file', 'a/b'],
  ['a//b/./c', 'file', 'a/b/c'],
  ['dir/', 'dir', 'dir'],
  ['./dir/sub/', 'dir', 'dir/sub'],
  ['./', 'dir', undefined],
  ['.', 'dir', undefined],
  ['..a/b..', 'file', '..a/b..'],
  ['caf\u00e9/\u2603.txt', 'file', 'caf\u00e9/\u2603.txt'],
  ['ab:c', 'file', 'ab:c'],
  ['dir/c:x', 'file', 'dir/c:x'],
];

for (const [name, kind, path] of accepted) {
  test(`${kind} "${name}" extracts to ${path ?? 'the folder itself'}`, () => {
    assert.deepEqual(entryPath(name, kind), { ok: true, path });
  });
}

const refused: [string, 'file' | 'dir', RegExp][] = [
  ['', 'file', /empty/],
  ['./', 'file', /ends with "\/"/],
  ['.', 'file', /empty/],
  ['../evil', 'file', /"\.\." segment/],
  ['a/../../evil', 'file', /"\.\." segment/],
  ['a/..', 'dir', /"\.\." segment/],
  ['./../x', 'file', /"\.\." segment/],
  ['/etc/evil', 'file', /absolute/],
  ['//x', 'dir', /absolute/],
  ['C:/evil', 'file', /drive letter/],
  ['c:evil', 'file', /drive letter/],
  ['a\\b', 'file', /backslash/],
  ['..\\evil', 'file', /backslash/],
  ['a\0b', 'file', /NUL/],
  ['file/', 'file', /ends with "\/"/],
];

for (const [name, kind, reason] of refused) {
  test(`${kind} ${JSON.stringify(name)} is refused`, () => {
    const result = entryPath(name, kind);
    assert.equal(result.ok, false);
    assert.match((result as { reason: string }).reason, reason);
  });
}

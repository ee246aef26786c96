import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSealer, loadOrCreateKey, openEnv, sealEnv } from './sealer.ts';

test('sealed values open again, never contain the plaintext, and differ each time', () => {
  const sealer = createSealer(Buffer.alloc(32, 1));
  const a = sealer.seal('hunter2-secret');
  const b = sealer.seal('hunter2-secret');
  assert.notEqual(a, b);
  assert.doesNotMatch(a, /hunter2/);
  assert.equal(sealer.open(a), 'hunter2-secret');
  assert.deepEqual({ ...openEnv(sealer, sealEnv(sealer, { A: '1', B: 'two' })) }, { A: '1', B: 'two' });
});

test('an env snapshot opens as a null-prototype record: toString and __proto__ are ordinary names', () => {
  const sealer = createSealer(Buffer.alloc(32, 1));
  const opened = openEnv(sealer, sealer.seal('{"__proto__":"p","toString":"t"}'));
  assert.equal(Object.getPrototypeOf(opened), null);
  assert.deepEqual(Object.entries(opened), [['__proto__', 'p'], ['toString', 't']]);
  assert.equal(opened.constructor, undefined);
});

test('tampering or the wrong key is detected', () => {
  const sealer = createSealer(Buffer.alloc(32, 1));
  const sealed = sealer.seal('value');
  const parts = sealed.split('.');
  parts[3] = Buffer.from('other').toString('base64url');
  assert.throws(() => sealer.open(parts.join('.')));
  assert.throws(() => createSealer(Buffer.alloc(32, 2)).open(sealed));
});

test('the key file is created once with mode 0600', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-key-'));
  const path = join(dir, 'secret.key');
  const key = loadOrCreateKey(path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(loadOrCreateKey(path), key);
  rmSync(dir, { recursive: true });
});

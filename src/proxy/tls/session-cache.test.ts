import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTls13Session, SessionCache } from './session-cache.ts';

/** The opening of an OpenSSL session in DER: SEQUENCE (long length), INTEGER 1, INTEGER protocol version. */
const session = (version: number, filler = 300) => {
  const body = Buffer.concat([Buffer.from([0x02, 0x01, 0x01, 0x02, 0x02, version >> 8, version & 0xff]), Buffer.alloc(filler)]);
  return Buffer.concat([Buffer.from([0x30, 0x82, body.length >> 8, body.length & 0xff]), body]);
};
const id = (n: number) => Buffer.from([n, n, n, n]);

test('TLS 1.3 sessions are told apart (they resume by ticket only) and not kept', () => {
  assert.equal(isTls13Session(session(0x0304)), true);
  assert.equal(isTls13Session(session(0x0303)), false);
  assert.equal(isTls13Session(Buffer.from('garbage that is no session')), false);
  assert.equal(isTls13Session(Buffer.alloc(0)), false);
  const cache = new SessionCache({ max: 10, ttlMs: 1000 });
  cache.store(id(1), session(0x0304), 0);
  assert.equal(cache.size, 0);
});

test('TLS 1.2 sessions are kept for their lifetime, the oldest go first past the bound', () => {
  const cache = new SessionCache({ max: 3, ttlMs: 1000 });
  for (let n = 1; n <= 4; n++) cache.store(id(n), session(0x0303), n);
  assert.equal(cache.size, 3);
  assert.equal(cache.get(id(1), 10), null, 'the oldest went');
  assert.ok(cache.get(id(4), 10));
  assert.equal(cache.get(id(2), 1003), null, 'expired');
  assert.equal(cache.get(Buffer.alloc(0), 10), null);
  cache.store(Buffer.alloc(0), session(0x0303), 10);
  assert.equal(cache.size, 2, 'an empty id is not kept (expired one removed on read)');
});

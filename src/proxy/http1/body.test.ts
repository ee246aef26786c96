import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedBody, LengthBody } from './body.ts';

const feedAll = (framer: ChunkedBody | LengthBody, text: string, step: number) => {
  const buf = Buffer.from(text, 'latin1');
  let consumed = 0;
  let data = '';
  for (let i = 0; i < buf.length && !framer.done; i += step) {
    const piece = buf.subarray(i, Math.min(buf.length, i + step));
    const n = framer.consume(piece, 0, (s, e) => (data += piece.subarray(s, e).toString('latin1')));
    consumed += n;
    if (n < piece.length) break;
  }
  return { consumed, data };
};

test('chunked bodies end exactly after the last chunk and trailers, split at every byte size', () => {
  const body = '5\r\nhello\r\n6;name=val\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n';
  for (const step of [1, 2, 3, 7, 64]) {
    const framer = new ChunkedBody();
    const { consumed, data } = feedAll(framer, body + 'NEXT REQUEST', step);
    assert.equal(framer.done, true, `step ${step}`);
    assert.equal(consumed, body.length, `step ${step}`);
    assert.equal(data, 'hello world0123456789');
  }
});

test('malformed chunked framing throws', () => {
  for (const bad of ['zz\r\n', '5\r\nhelloXX', '5\nhello\r\n', '\r\n', '1'.repeat(20) + '\r\n', '0\r\nbad\ntrailer\r\n\r\n']) {
    assert.throws(() => feedAll(new ChunkedBody(), bad, 1), Error, JSON.stringify(bad));
  }
});

test('length bodies stop at their length', () => {
  const framer = new LengthBody(5);
  const { consumed, data } = feedAll(framer, 'helloGET /', 3);
  assert.equal(consumed, 5);
  assert.equal(data, 'hello');
  assert.equal(framer.done, true);
});

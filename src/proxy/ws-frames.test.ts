import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameBoundary, closeFrame } from './ws-frames.ts';

const frame = (payload: number, masked = false) => {
  const len = payload < 126 ? [payload] : payload < 65536 ? [126, payload >> 8, payload & 255] : [127, 0, 0, 0, 0, (payload >>> 24) & 255, (payload >> 16) & 255, (payload >> 8) & 255, payload & 255];
  len[0] |= masked ? 0x80 : 0;
  return Buffer.concat([Buffer.from([0x81, ...len]), masked ? Buffer.alloc(4, 7) : Buffer.alloc(0), Buffer.alloc(payload, 0x61)]);
};

test('tracks boundaries across frames of every length encoding, split at every byte', () => {
  const stream = Buffer.concat([frame(5), frame(200), frame(70000), frame(0), frame(3, true)]);
  const boundaries = new Set<number>();
  let offset = 0;
  for (const f of [frame(5), frame(200), frame(70000), frame(0), frame(3, true)]) boundaries.add((offset += f.length));
  const tracker = new FrameBoundary();
  for (let i = 0; i < stream.length; i++) {
    tracker.feed(stream.subarray(i, i + 1));
    assert.equal(tracker.atBoundary, boundaries.has(i + 1), `after byte ${i + 1}`);
  }
});

test('stopAtBoundary forwards only up to the end of the current frame', () => {
  const tracker = new FrameBoundary();
  const a = frame(10);
  const b = frame(10);
  tracker.feed(a.subarray(0, 4));
  const rest = Buffer.concat([a.subarray(4), b]);
  const upTo = tracker.feed(rest, true);
  assert.equal(upTo, a.length - 4);
  assert.equal(tracker.atBoundary, true);
  assert.equal(new FrameBoundary().feed(b, true), 0, 'at a boundary already: forward nothing more');
});

test('close frame carries code and reason', () => {
  const f = closeFrame(1001, 'draining');
  assert.equal(f[0], 0x88);
  assert.equal(f[1], 2 + 8);
  assert.equal(f.readUInt16BE(2), 1001);
  assert.equal(f.subarray(4).toString(), 'draining');
});

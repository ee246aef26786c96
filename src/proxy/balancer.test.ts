import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickEvenly, pickWeighted } from './balancer.ts';

const make = (weights: number[]) => weights.map((weight, i) => ({ id: String.fromCharCode(97 + i), weight, current: 0 }));

test('smooth weighted round-robin gives each target its exact share, interleaved', () => {
  const targets = make([5, 1, 1]);
  const picks = Array.from({ length: 7 }, () => pickWeighted(targets, () => true)!.id).join('');
  assert.equal(picks, 'aabacaa');
});

test('equal weights rotate', () => {
  const targets = make([1, 1, 1]);
  const picks = Array.from({ length: 6 }, () => pickWeighted(targets, () => true)!.id).join('');
  assert.equal(picks, 'abcabc');
});

test('a 90/10 canary split holds over many picks', () => {
  const targets = make([9, 1]);
  const counts: Record<string, number> = { a: 0, b: 0 };
  for (let i = 0; i < 1000; i++) counts[pickWeighted(targets, () => true)!.id]++;
  assert.deepEqual(counts, { a: 900, b: 100 });
});

test('unusable and zero-weight targets are skipped; none usable gives undefined', () => {
  const targets = make([1, 0, 1]);
  const picks = Array.from({ length: 4 }, () => pickWeighted(targets, (t) => t.id !== 'a')!.id).join('');
  assert.equal(picks, 'cccc');
  assert.equal(pickWeighted(targets, () => false), undefined);
});

test('evenly: every usable target counts as 1, zero weights included', () => {
  const targets = make([0, 0, 5]);
  const picks = Array.from({ length: 6 }, () => pickEvenly(targets, (t) => t.id !== 'c')!.id).join('');
  assert.equal(picks, 'ababab');
  assert.equal(pickEvenly(targets, () => false), undefined);
});

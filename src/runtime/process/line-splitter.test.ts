import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitLines, TRUNCATED } from './line-splitter.ts';

const split = (text: string, options: Partial<Parameters<typeof splitLines>[1]> = {}) =>
  splitLines(Buffer.from(text), { maxLineLength: 10, skipping: false, final: false, ...options });

test('splitLines: complete lines are emitted, an incomplete tail is left for later', () => {
  assert.deepEqual(split('a\nbb\r\ncc'), { lines: ['a', 'bb'], consumed: 6, skipping: false });
  assert.deepEqual(split(''), { lines: [], consumed: 0, skipping: false });
  assert.deepEqual(split('\n\n'), { lines: ['', ''], consumed: 2, skipping: false });
});

test('splitLines: final flushes the tail', () => {
  assert.deepEqual(split('a\ntail', { final: true }), { lines: ['a', 'tail'], consumed: 6, skipping: false });
});

test('splitLines: long lines are cut; an unterminated long line sets skipping until its newline', () => {
  assert.deepEqual(split('0123456789abc\nok\n'), { lines: [`0123456789${TRUNCATED}`, 'ok'], consumed: 17, skipping: false });
  const first = split('0123456789abcdef');
  assert.deepEqual(first, { lines: [`0123456789${TRUNCATED}`], consumed: 16, skipping: true });
  const second = split('more\nnext\n', { skipping: true });
  assert.deepEqual(second, { lines: ['next'], consumed: 10, skipping: false });
  assert.deepEqual(split('still going', { skipping: true }), { lines: [], consumed: 11, skipping: true });
});

test('splitLines: the transform sees the whole line before it is cut', () => {
  const result = split('token=supersecretvalue\n', { transform: (l) => l.replace('supersecretvalue', '***') });
  assert.deepEqual(result.lines, ['token=***']);
});

test('splitLines: an over-long line without a newline yet is masked before it is cut', () => {
  const mask = (l: string) => l.split('supersecretvalue').join('***');
  const result = split('xxxxxxsupersecretvalue-and-more', { transform: mask });
  assert.deepEqual(result.lines, [`xxxxxx***-${TRUNCATED}`]);
  assert.ok(result.lines.every((l) => !l.includes('supe')), 'no part of the secret shows');
});

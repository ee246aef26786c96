import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectLogLines } from './log-query.ts';
import type { LogLine } from './driver.ts';

const line = (ts: number, text: string): LogLine => ({ ts, stream: 'stdout', line: text, instance: 'i' });
const lines = [line(10, 'a'), line(20, 'b'), line(30, 'c'), line(40, 'd')];

test('selectLogLines: since filters by timestamp, tail keeps the last lines after filtering', () => {
  const cases: { query: { sinceMs?: number; tail?: number }; expected: string[] }[] = [
    { query: {}, expected: ['a', 'b', 'c', 'd'] },
    { query: { tail: 1 }, expected: ['d'] },
    { query: { tail: 0 }, expected: [] },
    { query: { tail: 10 }, expected: ['a', 'b', 'c', 'd'] },
    { query: { sinceMs: 20 }, expected: ['b', 'c', 'd'] },
    { query: { sinceMs: 20, tail: 2 }, expected: ['c', 'd'] },
    { query: { sinceMs: 50 }, expected: [] },
  ];
  for (const c of cases) assert.deepEqual(selectLogLines(lines, c.query).map((l) => l.line), c.expected, JSON.stringify(c.query));
});

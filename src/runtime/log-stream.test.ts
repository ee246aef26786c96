import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogLine } from './driver.ts';
import { logStream } from './log-stream.ts';
import { within } from './contract-helpers.test-support.ts';

const line = (ts: number, text: string): LogLine => ({ ts, stream: 'stdout', line: text, instance: 'i' });

test('logStream: without follow yields the stored selection and ends', async () => {
  const got: string[] = [];
  for await (const l of logStream({ read: () => [line(1, 'a'), line(2, 'b')], subscribe: () => assert.fail('no subscription'), query: { tail: 1 } })) {
    got.push(l.line);
  }
  assert.deepEqual(got, ['b']);
});

test('logStream: follow yields stored lines, then lines pushed later (also those pushed while yielding), until aborted', async () => {
  let push: ((l: LogLine) => void) | undefined;
  let unsubscribed = false;
  const controller = new AbortController();
  const stream = logStream({
    read: () => [line(1, 'stored')],
    subscribe: (p) => {
      push = p;
      return () => (unsubscribed = true);
    },
    query: { follow: true, signal: controller.signal, sinceMs: 1 },
  });
  const iterator = stream[Symbol.asyncIterator]();
  assert.equal((await iterator.next()).value?.line, 'stored');
  assert.ok(push, 'subscribed before the first line was handed out');
  push(line(2, 'early'));
  push(line(0, 'too old for sinceMs'));
  assert.equal((await within(iterator.next(), 1_000, 'early line')).value?.line, 'early');
  const waiting = iterator.next();
  setTimeout(() => push!(line(3, 'late')), 20);
  assert.equal((await within(waiting, 1_000, 'late line')).value?.line, 'late');
  const ending = iterator.next();
  controller.abort();
  assert.equal((await within(ending, 1_000, 'the end after abort')).done, true);
  assert.equal(unsubscribed, true);
});

/** One post against real HTTP servers on 127.0.0.1: a hang is cut at the deadline, a huge answer at the cap, nothing followed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { postHttp } from './post.ts';
import { Receiver } from './receiver.test-support.ts';

test('a 2xx is delivered; the answer is kept short and the URL scrubbed from it', async () => {
  const receiver = new Receiver();
  await receiver.listen();
  try {
    const result = await postHttp(new URL(receiver.url), { 'x-berth-event': 'deploy.failed' }, '{"a":1}', { timeoutMs: 2000 });
    assert.deepEqual([result.ok, result.status, result.answer, result.error], [true, 200, 'ok', null]);
    assert.equal(receiver.received[0].headers['content-type'], 'application/json');
    assert.equal(receiver.received[0].body, '{"a":1}');
    receiver.behaviour = () => 404;
    const refused = await postHttp(new URL(receiver.url), {}, '{}', { timeoutMs: 2000 });
    assert.deepEqual([refused.ok, refused.status, refused.error], [false, 404, 'HTTP 404: no route for …']);
  } finally {
    await receiver.close();
  }
});

test('a receiver that hangs is cut at the deadline; one that streams 64 MiB is cut at the cap', async () => {
  const receiver = new Receiver();
  await receiver.listen();
  try {
    receiver.behaviour = () => 'hang';
    let started = performance.now();
    const hung = await postHttp(new URL(receiver.url), {}, '{}', { timeoutMs: 300 });
    const hungMs = performance.now() - started;
    assert.ok(hungMs >= 290 && hungMs < 2000, `${hungMs} ms`);
    assert.deepEqual([hung.ok, hung.status, hung.error], [false, null, 'no answer within 0.3 s']);
    receiver.behaviour = () => 'huge';
    started = performance.now();
    const huge = await postHttp(new URL(receiver.url), {}, '{}', { timeoutMs: 10_000, maxAnswerBytes: 64 * 1024 });
    assert.ok(performance.now() - started < 2000, 'cut long before 64 MiB were read');
    assert.equal(huge.status, 500);
    assert.match(huge.error!, /^HTTP 500 \(answer cut at the cap\): x{10}/);
    assert.ok(huge.answer.length <= 300);
  } finally {
    await receiver.close();
  }
});

test('a closed port and a redirect fail with a reason; garbage in answer to a post fails, never throws', async () => {
  const closed = await postHttp(new URL('http://127.0.0.1:1/h'), {}, '{}', { timeoutMs: 2000 });
  assert.equal(closed.ok, false);
  assert.match(closed.error!, /ECONNREFUSED/);
  const raw = createServer((socket) => {
    socket.once('data', (data) => {
      if (data.toString().startsWith('POST /redirect')) socket.end('HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/\r\ncontent-length: 0\r\n\r\n');
      else socket.end('\u0000\u0001not http at all\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
  const port = (raw.address() as AddressInfo).port;
  try {
    const redirected = await postHttp(new URL(`http://127.0.0.1:${port}/redirect`), {}, '{}', { timeoutMs: 2000 });
    assert.deepEqual([redirected.ok, redirected.status], [false, 302]);
    assert.match(redirected.error!, /redirects are not followed/);
    const garbage = await postHttp(new URL(`http://127.0.0.1:${port}/x`), {}, '{}', { timeoutMs: 2000 });
    assert.equal(garbage.ok, false);
    assert.equal(garbage.status, null);
  } finally {
    raw.close();
  }
});

test('a stop in the middle of a post ends it at once', async () => {
  const receiver = new Receiver();
  await receiver.listen();
  receiver.behaviour = () => 'hang';
  try {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 50);
    const result = await postHttp(new URL(receiver.url), {}, '{}', { timeoutMs: 10_000, signal: stop.signal });
    assert.deepEqual([result.ok, result.error], [false, 'the berth server is stopping']);
  } finally {
    await receiver.close();
  }
});

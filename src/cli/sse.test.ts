import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSse, SseParser, type SseMessage } from './sse.ts';

const STREAM = [
  '\uFEFF: a comment the server sends to keep the connection open\n',
  'id: 1\n',
  'event: deploy.state\n',
  'data: {"state":"building"}\n',
  '\n',
  'event: build.log\r\n',
  'data: first line\r\n',
  'data: second line, caf\u00e9 \u2603 \u{1F680}\r\n',
  'id: 2\r\n',
  '\r\n',
  'data:no space after the colon\r',
  'data:  two spaces keep one\r',
  'retry: 3000\r',
  '\r',
  ':only a comment\n\n',
  'event: no-data-is-not-dispatched\n\n',
  'data\n',
  'unknown-field: ignored\n',
  'id: 3\n',
  'event: end\n',
  '\n',
  'data: unterminated at the end is dropped',
].join('');

const EXPECTED: SseMessage[] = [
  { event: 'deploy.state', data: '{"state":"building"}', id: '1' },
  { event: 'build.log', data: 'first line\nsecond line, caf\u00e9 \u2603 \u{1F680}', id: '2' },
  { event: 'message', data: 'no space after the colon\n two spaces keep one', id: '2', retry: 3000 },
  { event: 'end', data: '', id: '3', retry: 3000 },
];

function parseChunks(chunks: Uint8Array[]): SseMessage[] {
  const parser = new SseParser();
  return [...chunks.flatMap((chunk) => parser.push(chunk)), ...parser.end()];
}

test('parses ids, event names, multi-line data, comments and every line ending', () => {
  assert.deepEqual(parseChunks([Buffer.from(STREAM)]), EXPECTED);
});

test('gives the same messages wherever the stream is split, including inside CRLF and multi-byte characters', () => {
  const bytes = Buffer.from(STREAM);
  for (let at = 0; at <= bytes.length; at++) {
    assert.deepEqual(parseChunks([bytes.subarray(0, at), bytes.subarray(at)]), EXPECTED, `split at byte ${at}`);
  }
});

test('gives the same messages one byte at a time', () => {
  const bytes = Buffer.from(STREAM);
  assert.deepEqual(parseChunks([...bytes].map((byte) => Uint8Array.of(byte))), EXPECTED);
});

test('a CR at the end of one chunk and a LF at the start of the next are one line end', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push('data: a\r'), []);
  assert.deepEqual(parser.push('\n\r'), [{ event: 'message', data: 'a' }]);
  assert.deepEqual(parser.push('\ndata: b\n\n'), [{ event: 'message', data: 'b' }], 'the second CR LF ends an empty line, so only b follows');
});

function streamOf(chunks: string[], options: { close?: boolean } = {}): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      if (options.close !== false) controller.close();
    },
  });
}

test('readSse yields messages from a response body as they come', async () => {
  const seen: SseMessage[] = [];
  for await (const message of readSse(streamOf(['data: 1\n', '\ndata: 2\n\n']))) seen.push(message);
  assert.deepEqual(seen, [
    { event: 'message', data: '1' },
    { event: 'message', data: '2' },
  ]);
});

test('readSse stops with the abort reason when its signal is aborted, and cancels the body', async () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('data: 1\n\n'));
    },
    cancel() {
      cancelled = true;
    },
  });
  const controller = new AbortController();
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const message of readSse(body, controller.signal)) {
        seen.push(message.data);
        setTimeout(() => controller.abort(new DOMException('stop', 'AbortError')), 10);
      }
    })(),
    { name: 'AbortError' },
  );
  assert.deepEqual(seen, ['1']);
  assert.equal(cancelled, true);
});

test('readSse cancels the body when the consumer leaves early', async () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('data: 1\n\ndata: 2\n\n'));
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const message of readSse(body)) {
    assert.equal(message.data, '1');
    break;
  }
  assert.equal(cancelled, true);
});

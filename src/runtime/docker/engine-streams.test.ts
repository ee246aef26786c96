import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogEntry } from './engine.ts';
import { engineTime, frameDemuxer, jsonObjects, lineSink, logAssembler, parseLogTimestamp, type Frame } from './engine-streams.ts';
import { apiPath, EngineError, segment } from './engine-transport.ts';

function frame(type: number, payload: string | Buffer): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

/** Every way of cutting `bytes` into two chunks, plus one byte at a time. */
function cuttings(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[...bytes].map((b) => Buffer.from([b]))];
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return out;
}

function logsFrom(chunks: Buffer[], timestamps = true): LogEntry[] {
  const demux = frameDemuxer();
  const lines = logAssembler({ timestamps });
  const entries: LogEntry[] = [];
  for (const chunk of chunks) for (const f of demux.push(chunk)) entries.push(...lines.push(f));
  entries.push(...lines.end());
  assert.equal(demux.pendingBytes, 0);
  return entries;
}

const T1 = '2024-05-01T12:34:56.123456789Z';
const T2 = '2024-05-01T12:34:57.5Z';
const MS1 = Date.UTC(2024, 4, 1, 12, 34, 56, 123);
const MS2 = Date.UTC(2024, 4, 1, 12, 34, 57, 500);

test('frames are reassembled whatever the chunk boundaries, headers included', () => {
  const bytes = Buffer.concat([frame(1, 'hello'), frame(2, 'oops'), frame(1, ''), frame(1, 'x'.repeat(300))]);
  for (const chunks of cuttings(bytes)) {
    const demux = frameDemuxer();
    const frames: Frame[] = chunks.flatMap((c) => demux.push(c));
    assert.deepEqual(
      frames.map((f) => [f.stream, f.payload.toString()]),
      [
        ['stdout', 'hello'],
        ['stderr', 'oops'],
        ['stdout', ''],
        ['stdout', 'x'.repeat(300)],
      ],
    );
  }
});

test('a stream that is not multiplexed (a TTY) is reported, not misread', () => {
  assert.throws(() => frameDemuxer().push(Buffer.from('hello world\n')), (error) => error instanceof EngineError && /TTY/.test(error.message));
});

test('log frames become one entry per line with the engine timestamp, for each stream', () => {
  const bytes = Buffer.concat([frame(1, `${T1} out one\n`), frame(2, `${T1} err one\r\n`), frame(1, `${T2} out two\n`), frame(1, `${T2} \n`)]);
  for (const chunks of cuttings(bytes)) {
    assert.deepEqual(logsFrom(chunks), [
      { stream: 'stdout', ts: MS1, line: 'out one' },
      { stream: 'stderr', ts: MS1, line: 'err one' },
      { stream: 'stdout', ts: MS2, line: 'out two' },
      { stream: 'stdout', ts: MS2, line: '' },
    ]);
  }
});

test('a line split over several messages (frames) is joined and keeps the first part time', () => {
  // json-file splits lines over 16 KiB: every part has its own prefix, only the last ends with \n.
  const euro = Buffer.from('€');
  const chunks = [
    frame(1, Buffer.concat([Buffer.from(`${T1} abc`), euro.subarray(0, 1)])),
    frame(2, `${T1} err\n`),
    frame(1, Buffer.concat([Buffer.from(`${T2} `), euro.subarray(1), Buffer.from('def\n')])),
  ];
  assert.deepEqual(logsFrom([Buffer.concat(chunks)]), [
    { stream: 'stderr', ts: MS1, line: 'err' },
    { stream: 'stdout', ts: MS1, line: 'abc€def' },
  ]);
});

test('several lines in one frame, and a last line without newline, each become an entry', () => {
  const entries = logsFrom([frame(1, `${T1} one\ntwo\n${T2} three\nfour`)]);
  assert.deepEqual(
    entries.map((e) => [e.ts, e.line]),
    [
      [MS1, 'one'],
      [MS1, 'two'],
      [MS2, 'three'],
      [MS2, 'four'],
    ],
  );
  const plain = logsFrom([frame(1, 'a\nb'), frame(2, 'c\n')], false);
  assert.deepEqual(
    plain.map((e) => [e.stream, e.line]),
    [
      ['stdout', 'a'],
      ['stderr', 'c'],
      ['stdout', 'b'],
    ],
  );
});

test('a system-error frame (type 3) is an error', () => {
  const lines = logAssembler({ timestamps: true });
  const [f] = frameDemuxer().push(frame(3, 'error from daemon in stream: boom'));
  assert.throws(() => lines.push(f), /boom/);
});

test('RFC3339Nano timestamps: nanoseconds, zone offsets, and text that is not one', () => {
  assert.deepEqual(parseLogTimestamp(`${T1} x`), { ts: MS1, length: T1.length + 1 });
  assert.equal(parseLogTimestamp('2024-05-01T14:34:56.123456789+02:00 x')?.ts, MS1);
  assert.equal(parseLogTimestamp('2024-05-01T12:34:56Z x')?.ts, MS1 - 123);
  assert.equal(parseLogTimestamp('hello 2024-05-01T12:34:56Z'), undefined);
  assert.equal(parseLogTimestamp(T1), undefined, 'the prefix ends with a space');
});

test('engine times are seconds with nine digits of nanoseconds', () => {
  assert.equal(engineTime(MS1), `${Math.floor(MS1 / 1000)}.123000000`);
  assert.equal(engineTime(1000), '1.000000000');
  assert.equal(engineTime(1234.9), '1.234000000');
});

test('newline-delimited JSON objects are parsed across chunk boundaries', async () => {
  const text = Buffer.from('{"stream":"Step 1 €"}\r\n{"aux":{"ID":"sha256:1"}}\n\n{"error":"bad"}');
  for (const chunks of cuttings(text)) {
    const out = [];
    for await (const o of jsonObjects((async function* () {
      yield* chunks;
    })())) out.push(o);
    assert.deepEqual(out, [{ stream: 'Step 1 €' }, { aux: { ID: 'sha256:1' } }, { error: 'bad' }]);
  }
  await assert.rejects(async () => {
    for await (const _ of jsonObjects((async function* () {
      yield Buffer.from('not json\n');
    })()));
  }, /not JSON/);
});

test('with a bound, a line that never ends fails the stream instead of growing; lines within it pass', async () => {
  const read = async (chunks: string[]) => {
    const out = [];
    for await (const o of jsonObjects((async function* () {
      yield* chunks;
    })(), { maxLineChars: 64 })) out.push(o);
    return out;
  };
  assert.deepEqual(await read([`{"status":"${'x'.repeat(40)}"}\n`, '{"a":1}\n']), [{ status: 'x'.repeat(40) }, { a: 1 }]);
  let pieces = 0;
  const endless = async function* () {
    yield '{"status":"';
    for (; pieces < 1_000_000; pieces++) yield 'y'.repeat(16);
  };
  await assert.rejects(async () => {
    for await (const _ of jsonObjects(endless(), { maxLineChars: 64 }));
  }, /line longer than 64 characters/);
  assert.ok(pieces < 10, `stopped after ${pieces} pieces`);
});

test('build text arrives in pieces and leaves as whole lines', () => {
  const lines: string[] = [];
  const sink = lineSink((l) => lines.push(l));
  for (const piece of ['Step 1/2 : FROM x', '\n', ' ---> abc\nhel', 'lo\r\n', 'last']) sink.push(piece);
  assert.deepEqual(lines, ['Step 1/2 : FROM x', ' ---> abc', 'hello']);
  sink.end();
  assert.deepEqual(lines.at(-1), 'last');
});

test('paths carry the API version; queries repeat arrays, spell booleans 1/0 and drop undefined', () => {
  assert.equal(apiPath('1.41', '/build', { t: ['a:1', 'b:2'], rm: true, pull: false, memory: undefined }), '/v1.41/build?t=a%3A1&t=b%3A2&rm=1&pull=0');
  assert.equal(apiPath('1.47', '/containers/json'), '/v1.47/containers/json');
  assert.equal(apiPath(undefined, '/_ping'), '/_ping');
  assert.equal(segment('berth-test/node:24'), 'berth-test/node:24');
  assert.equal(segment('a b?c#'), 'a%20b%3Fc%23');
});

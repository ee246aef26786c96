import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import type { Input } from './io.ts';
import { readAll, readSecret, stripFinalNewline } from './prompt.ts';
import { sink } from './cli.test-support.ts';

/** A terminal's stdin: raw mode switches, keystrokes arrive as data events. */
function terminal(): Input & { modes: boolean[]; type(text: string): void } {
  const events = new EventEmitter();
  const modes: boolean[] = [];
  return {
    isTTY: true,
    modes,
    setRawMode: (mode: boolean) => modes.push(mode),
    on: (event, listener) => events.on(event, listener),
    off: (event, listener) => events.off(event, listener),
    pause: () => undefined,
    resume: () => undefined,
    type: (text: string) => events.emit('data', Buffer.from(text)),
    [Symbol.asyncIterator]: () => {
      throw new Error('not read as a stream');
    },
  };
}

test('a secret is read in raw mode without echo; backspace edits; Enter ends it', async () => {
  const input = terminal();
  const out = sink(true);
  const secret = readSecret(input, out, 'token: ');
  input.type('s3c');
  input.type('x\u007fr3t\u00e9');
  input.type('\r');
  assert.equal(await secret, 's3cr3t\u00e9');
  assert.equal(out.text, 'token: \n', 'nothing but the prompt and the final newline is written');
  assert.deepEqual(input.modes, [true, false], 'raw mode is switched off again');
});

test('Ctrl-C while reading a secret rejects with an AbortError and restores the terminal', async () => {
  const input = terminal();
  const secret = readSecret(input, sink(true), 'token: ');
  input.type('abc\u0003');
  await assert.rejects(secret, { name: 'AbortError' });
  assert.deepEqual(input.modes, [true, false]);
});

test('piped stdin is read whole; one final newline is not part of the value', async () => {
  assert.equal(await readAll(Readable.from([Buffer.from('line one\n'), Buffer.from('line two\n')])), 'line one\nline two\n');
  assert.equal(stripFinalNewline('secret\n'), 'secret');
  assert.equal(stripFinalNewline('secret\r\n'), 'secret');
  assert.equal(stripFinalNewline('two\n\n'), 'two\n');
  assert.equal(stripFinalNewline('none'), 'none');
});

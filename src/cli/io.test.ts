import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitSubcommand } from './args.ts';
import { colorEnabled, liveEnabled } from './io.ts';

test('colour only on a terminal, and never with NO_COLOR set or TERM=dumb', () => {
  const tty = { write: () => true, isTTY: true };
  const pipe = { write: () => true, isTTY: false };
  assert.equal(colorEnabled(tty, {}), true);
  assert.equal(colorEnabled(pipe, {}), false);
  assert.equal(colorEnabled(tty, { NO_COLOR: '1' }), false);
  assert.equal(colorEnabled(tty, { NO_COLOR: '' }), true, 'an empty NO_COLOR does not count (no-color.org)');
  assert.equal(colorEnabled(tty, { TERM: 'dumb' }), false);
  assert.equal(liveEnabled(tty, {}), true);
  assert.equal(liveEnabled(pipe, {}), false);
  assert.equal(liveEnabled(tty, { CI: 'true' }), false, 'CI logs get plain lines even on a pseudo-terminal');
});

test('a subcommand is the first positional, wherever the flags are', () => {
  assert.deepEqual(splitSubcommand(['set', 'app', 'A=1'], {}), { sub: 'set', rest: ['app', 'A=1'] });
  assert.deepEqual(splitSubcommand(['--url', 'http://x', 'list', 'app', '--reveal'], { reveal: { type: 'boolean', doc: '' } }), {
    sub: 'list',
    rest: ['--url', 'http://x', 'app', '--reveal'],
  });
  assert.deepEqual(splitSubcommand(['--json'], {}), { rest: ['--json'] });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../errors/catalogue.ts';
import { MANIFEST_LIMITS } from './limits.ts';
import { parseManifest } from './load.ts';
import { OffThreadParser } from './parse-off-thread.ts';

const TEXT = 'name: hello\nenv:\n  constructor: a\n  __proto__: b\n  toString: c\nprocesses:\n  web: node server.js\n  constructor: node worker.js\n';

/** The worst file within the limits that we know of: the YAML parser's slowest input, ~64 KB of `[`. */
const SLOW = `${'['.repeat(MANIFEST_LIMITS.maxBytes / 2 - 8)}${']'.repeat(MANIFEST_LIMITS.maxBytes / 2 - 8)}\n`;

test('a valid file: the same Manifest as parseManifest, records without prototype, deep-frozen', async () => {
  const parsed = await new OffThreadParser().parse(TEXT, { file: 'berth.yaml' });
  assert.deepEqual(parsed, parseManifest(TEXT));
  assert.deepEqual(Object.keys(parsed.env), ['constructor', '__proto__', 'toString']);
  assert.equal(parsed.env.__proto__, 'b');
  for (const record of [parsed.env, parsed.processes, parsed.services]) assert.equal(Object.getPrototypeOf(record), null);
  assert.ok(Object.isFrozen(parsed) && Object.isFrozen(parsed.processes) && Object.isFrozen(parsed.processes.web) && Object.isFrozen(parsed.domains));
});

test('an invalid file: the same MANIFEST_INVALID error as parseManifest, naming the file as given', async () => {
  const text = 'processes:\n  toString: node a.js\n';
  const expected = (() => {
    try {
      parseManifest(text, { file: 'berth.yml' });
    } catch (error) {
      return error as Error;
    }
    return assert.fail('parseManifest accepted it');
  })();
  await assert.rejects(new OffThreadParser().parse(text, { file: 'berth.yml' }), (error: Error) => {
    assert.ok(isBerthError(error) && error.code === 'MANIFEST_INVALID');
    assert.deepEqual(error.toJSON(), (expected as typeof error).toJSON());
    assert.match(error.message, /^berth\.yml is not valid:\n  - processes\.toString: line 2: `toString` is not a valid process name/);
    return true;
  });
});

test('the event loop keeps turning while a file is parsed', async () => {
  let turns = 0;
  let parsing = true;
  const turn = () => {
    turns++;
    if (parsing) setImmediate(turn);
  };
  setImmediate(turn);
  const outcome = await new OffThreadParser().parse(SLOW, { file: 'berth.yaml' }).catch((error: Error) => error);
  parsing = false;
  assert.ok(isBerthError(outcome) && outcome.code === 'MANIFEST_INVALID', String(outcome));
  // Parsed on this thread, the promise would settle before a single turn of the loop.
  assert.ok(turns > 1, `the loop turned ${turns} times`);
});

test('a parse over its time is stopped, and refused as MANIFEST_INVALID naming the limit', async () => {
  const parser = new OffThreadParser({ timeoutMs: 1, heapMb: 64, concurrency: 1 });
  await assert.rejects(parser.parse(SLOW, { file: 'berth.yaml' }), (error: Error) => {
    assert.ok(isBerthError(error) && error.code === 'MANIFEST_INVALID', String(error));
    assert.match(error.message, /^berth\.yaml is not valid:\n  - \(top level\): berth stopped reading the file after 0\.001 s, the most it spends on one \(fix: write berth.yaml as plain `key: value` lines/);
    return true;
  });
  // The stopped worker gave its place back (concurrency 1): the next parse runs, and is stopped the same way.
  await assert.rejects(parser.parse('name: next\n', { file: 'berth.yaml' }), /stopped reading the file/);
});

test('a parse over its memory is stopped, and refused as MANIFEST_INVALID naming the limit', async () => {
  const parser = new OffThreadParser({ timeoutMs: 60_000, heapMb: 16, concurrency: 1 });
  await assert.rejects(parser.parse(SLOW, { file: 'berth.yaml' }), (error: Error) => {
    assert.ok(isBerthError(error) && error.code === 'MANIFEST_INVALID', String(error));
    assert.match(error.message, /reading the file needed more than 16 MB of memory, the most berth gives one/);
    return true;
  });
  assert.throws(() => new OffThreadParser({ timeoutMs: 1000, heapMb: 2, concurrency: 1 }), /heapMb 2 is below 16/);
});

test('parses beyond `concurrency` wait until a running one has finished', async () => {
  const parser = new OffThreadParser({ timeoutMs: 60_000, heapMb: 64, concurrency: 1 });
  const finished: string[] = [];
  await Promise.all([
    parser.parse(SLOW, { file: 'berth.yaml' }).catch(() => undefined).then(() => finished.push('slow')),
    parser.parse('name: quick\n', { file: 'berth.yaml' }).then(() => finished.push('quick')),
  ]);
  // Each in a worker of its own, the quick file would be done long before the slow one.
  assert.deepEqual(finished, ['slow', 'quick']);
});

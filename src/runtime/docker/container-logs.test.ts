/** container-logs.ts, pure part: what the engine is asked for a log query. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineLogOptions } from './container-logs.ts';

test('the engine gets since in seconds, tail and signal only when given, and follow always', () => {
  const signal = new AbortController().signal;
  assert.deepEqual(engineLogOptions({}), { follow: false });
  assert.deepEqual(engineLogOptions({ sinceMs: 1_500, tail: 20, follow: true, signal }), { since: 1.5, tail: 20, follow: true, signal });
  assert.deepEqual(engineLogOptions({ sinceMs: 0, tail: 0 }), { since: 0, tail: 0, follow: false });
});

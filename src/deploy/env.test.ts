import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envDrift } from './env.ts';

test('envDrift: vars set or changed since the serving release are pending; unset ones it still has are listed', () => {
  const drift = envDrift({ SAME: '1', CHANGED: 'new', ADDED: 'x' }, { SAME: '1', CHANGED: 'old', GONE: 'y' });
  assert.deepEqual([...drift.pending].sort(), ['ADDED', 'CHANGED']);
  assert.deepEqual(drift.unsetButServed, ['GONE']);
});

test('envDrift: before the first release every var is pending and nothing is served', () => {
  const drift = envDrift({ A: '1' }, null);
  assert.deepEqual([...drift.pending], ['A']);
  assert.deepEqual(drift.unsetButServed, []);
});

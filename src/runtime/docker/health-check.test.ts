/** health-check.ts, pure parts: the heartbeat command and how an exec's answer reads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandResult, heartbeatArgv, heartbeatResult } from './health-check.ts';

const heartbeat = { file: '/tmp/beat', maxAgeMs: 30_000 };

test('the heartbeat command quotes the file for sh, whatever its name', () => {
  assert.deepEqual(heartbeatArgv('/tmp/beat'), ['sh', '-c', "[ -f '/tmp/beat' ] && echo $(( $(date +%s) - $(date -r '/tmp/beat' +%s) ))"]);
  assert.equal(heartbeatArgv("/tmp/it's")[2], "[ -f '/tmp/it'\\''s' ] && echo $(( $(date +%s) - $(date -r '/tmp/it'\\''s' +%s) ))");
});

test('a heartbeat is fresh up to its max age; missing, stale or unreadable are failures that say which', () => {
  assert.deepEqual(heartbeatResult(heartbeat, { exitCode: 0, output: '12\n' }), { ok: true, detail: 'heartbeat 12 s old' });
  assert.deepEqual(heartbeatResult(heartbeat, { exitCode: 0, output: '30' }), { ok: true, detail: 'heartbeat 30 s old' });
  assert.deepEqual(heartbeatResult(heartbeat, { exitCode: 0, output: '31' }), { ok: false, detail: 'heartbeat is 31 s old (limit 30 s)' });
  assert.deepEqual(heartbeatResult(heartbeat, { exitCode: 1, output: '' }), { ok: false, detail: 'heartbeat /tmp/beat does not exist yet' });
  assert.deepEqual(heartbeatResult(heartbeat, { exitCode: -1, output: 'exec timed out' }), { ok: false, detail: 'checking the heartbeat failed: exec timed out' });
});

test('a check command passes with exit 0 only', () => {
  assert.deepEqual(commandResult('redis-cli ping', 0), { ok: true, detail: '`redis-cli ping` exited 0' });
  assert.deepEqual(commandResult('redis-cli ping', 1), { ok: false, detail: '`redis-cli ping` exited with code 1' });
  assert.deepEqual(commandResult('redis-cli ping', -1), { ok: false, detail: '`redis-cli ping` exited with code -1' });
});

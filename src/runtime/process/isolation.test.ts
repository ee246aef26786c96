import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isolatesApps, isolationWarning, NOT_ISOLATED_WARNING } from './isolation.ts';

test('berth doctor warns that the process runtime does not isolate apps when the daemon is not root', () => {
  const cases: [driver: string, uid: number, warned: boolean][] = [
    ['process', 1000, true],
    ['process', 65534, true],
    ['process', -1, true],
    ['process', 0, false],
    ['docker', 1000, false],
    ['docker', 0, false],
    ['fake', 1000, false],
  ];
  for (const [driver, uid, warned] of cases) {
    assert.equal(isolationWarning({ driver, uid }), warned ? NOT_ISOLATED_WARNING : null, `${driver} as uid ${uid}`);
    if (driver === 'process') assert.equal(isolatesApps(uid), !warned);
  }
  // Plain about what is exposed and what to do instead.
  for (const words of ['does not isolate', 'admin token', 'secret.key', 'docker runtime', 'root under systemd']) assert.ok(NOT_ISOLATED_WARNING.includes(words), words);
});

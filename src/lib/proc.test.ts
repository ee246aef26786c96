import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseStat, readStat, readEnviron, isSameProcessAlive, liveGroups, signalGroup } from './proc.ts';
import { commandArgv } from '../runtime/command.ts';

test('parseStat reads state, pgrp and start time even when the command name has spaces and parentheses', () => {
  const fields = ['S', '1', '4242', '4242', '0', '-1', '4194560', '100', '0', '0', '0', '5', '3', '0', '0', '20', '0', '1', '0', '987654', '1000'];
  assert.deepEqual(parseStat(4242, `4242 (node) ${fields.join(' ')}`), { pid: 4242, state: 'S', pgrp: 4242, startTime: 987654 });
  assert.deepEqual(parseStat(7, `7 (a) b (c) ${fields.join(' ')}`)?.startTime, 987654);
  assert.equal(parseStat(7, 'garbage'), null);
});

test('readStat and readEnviron see this process; a wrong start time is another process', () => {
  const self = readStat(process.pid);
  assert.ok(self);
  assert.equal(isSameProcessAlive(process.pid, self.startTime), true);
  assert.equal(isSameProcessAlive(process.pid, self.startTime + 1), false);
  assert.equal(isSameProcessAlive(process.pid, null), false);
  assert.equal(readEnviron(process.pid)?.PATH !== undefined, true);
  assert.equal(readStat(2 ** 30), null);
});

test('signalGroup refuses group ids that would hit berth itself or everything', () => {
  assert.equal(signalGroup(0, 'SIGCONT'), false);
  assert.equal(signalGroup(1, 'SIGCONT'), false);
  assert.equal(signalGroup(-5, 'SIGCONT'), false);
  assert.equal(signalGroup(readStat(process.pid)!.pgrp, 'SIGCONT'), false);
});

test('liveGroups names the groups that still run something, never berth\'s own', async () => {
  const children = [1, 2].map(() => spawn('sleep', ['30'], { detached: true, stdio: 'ignore' }));
  const [a, b] = children.map((c) => c.pid!);
  try {
    assert.deepEqual(liveGroups([a, b, readStat(process.pid)!.pgrp, 0, 2 ** 30]).sort(), [a, b].sort());
    signalGroup(a, 'SIGKILL');
    await once(children[0], 'exit');
    assert.deepEqual(liveGroups([a, b]), [b]);
    assert.deepEqual(liveGroups([]), []);
  } finally {
    for (const c of children) signalGroup(c.pid!, 'SIGKILL');
  }
});

test('commandArgv runs plain commands directly and anything shell-like through sh', () => {
  const cases: [string, string[]][] = [
    ['node server.js', ['node', 'server.js']],
    ['  node   dist/main.js --port=3000 ', ['node', 'dist/main.js', '--port=3000']],
    ['npm run start:prod', ['npm', 'run', 'start:prod']],
    ['node server.js | cat', ['sh', '-c', 'node server.js | cat']],
    ['NODE_ENV=production node server.js', ['sh', '-c', 'NODE_ENV=production node server.js']],
    ['node "my server.js"', ['sh', '-c', 'node "my server.js"']],
    ['node $ENTRY', ['sh', '-c', 'node $ENTRY']],
    ['cd app && node index.js', ['sh', '-c', 'cd app && node index.js']],
  ];
  for (const [command, argv] of cases) assert.deepEqual(commandArgv(command), argv, command);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { groupsUsage, parseUsageStat, sumGroups } from './usage.ts';

// A real /proc/<pid>/stat line (Linux 6.x), command name with a space and a parenthesis.
const line = (pid: number, pgrp: number, state: string, utime: number, stime: number, cutime: number, cstime: number, rss: number) =>
  `${pid} (node (web) x) ${state} 1 ${pgrp} ${pgrp} 0 -1 4194560 100 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 11 0 123456 1000000 ${rss} 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0`;

test('parseUsageStat reads pgrp, ticks, children ticks and RSS pages after the last parenthesis', () => {
  assert.deepEqual(parseUsageStat(line(42, 40, 'S', 10, 5, 7, 3, 2500)), { pgrp: 40, state: 'S', ticks: 15, childTicks: 10, rssPages: 2500 });
  assert.equal(parseUsageStat('garbage'), null);
  assert.equal(parseUsageStat('1 (x) S 1 notanumber'), null);
});

test('sumGroups adds a group up, counts the leader children once, leaves out zombies and dead groups', () => {
  const samples = [
    { pid: 40, sample: parseUsageStat(line(40, 40, 'S', 100, 50, 30, 20, 1000))! },
    { pid: 41, sample: parseUsageStat(line(41, 40, 'R', 10, 0, 999, 999, 500))! },
    { pid: 43, sample: parseUsageStat(line(43, 40, 'Z', 1000, 1000, 0, 0, 0))! },
    { pid: 50, sample: parseUsageStat(line(50, 50, 'Z', 7, 7, 0, 0, 0))! },
    { pid: 60, sample: parseUsageStat(line(60, 60, 'S', 1, 1, 0, 0, 10))! },
  ];
  const groups = [
    { id: 'a', pgid: 40, memoryLimitBytes: null },
    { id: 'b', pgid: 50, memoryLimitBytes: null },
    { id: 'c', pgid: 70, memoryLimitBytes: null },
  ];
  assert.deepEqual(sumGroups(groups, samples, { clkTck: 100, pageSize: 4096 }), [{ id: 'a', cpuSeconds: 2.1, memoryBytes: 1500 * 4096, memoryLimitBytes: null }]);
});

test('groupsUsage reads a real process group from /proc: CPU grows while it burns, RSS is there', { timeout: 20_000 }, async () => {
  const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 600; while (Date.now() < end); setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 900));
    const [u] = groupsUsage([{ id: 'burner', pgid: child.pid!, memoryLimitBytes: null }]);
    assert.ok(u, 'the group is found');
    assert.ok(u.cpuSeconds >= 0.3 && u.cpuSeconds < 5, `about 0.6 s of CPU: ${u.cpuSeconds}`);
    assert.ok(u.memoryBytes > 10 * 1024 * 1024 && u.memoryBytes < 1024 ** 3, `a Node process's RSS: ${u.memoryBytes}`);
  } finally {
    process.kill(-child.pid!, 'SIGKILL');
  }
  await new Promise((resolve) => child.once('exit', resolve));
  assert.deepEqual(groupsUsage([{ id: 'burner', pgid: child.pid!, memoryLimitBytes: null }]), [], 'gone once it ended');
});

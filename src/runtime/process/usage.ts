/**
 * RuntimeDriver.usage() for host processes: an instance is a process group (its leader's pid is the
 * group id), so its use is the sum over every live process of the group, read from /proc in one scan.
 *   CPU: utime + stime (fields 14, 15 of /proc/<pid>/stat), plus the leader's cutime + cstime (16, 17):
 *        children it has waited for (a shell's finished commands) still count.
 *   Memory: resident pages (field 24) times the page size.
 * Ticks and pages are converted with the kernel's own CLK_TCK and PAGESIZE, asked from `getconf` once;
 * should getconf be missing, 100 and 4096 (what every Linux on x86-64 and arm64 uses) stand in.
 * A child that left the group (setsid, a daemonizing tool) is not counted: berth would not stop it either.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { listPids } from '../../lib/proc.ts';
import type { InstanceUsage } from '../driver.ts';

export interface ProcSample {
  pgrp: number;
  state: string;
  /** Own user + system time, ticks. */
  ticks: number;
  /** Waited-for children's user + system time, ticks. */
  childTicks: number;
  rssPages: number;
}

/** Reads the fields usage needs from /proc/<pid>/stat; the name (field 2) may hold spaces, so split after the last ')'. */
export function parseUsageStat(text: string): ProcSample | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // fields[0] is field 3; field n is fields[n - 3].
  const f = text.slice(close + 2).split(' ');
  const n = (field: number) => Number(f[field - 3]);
  const sample = { pgrp: n(5), state: f[0] ?? '', ticks: n(14) + n(15), childTicks: n(16) + n(17), rssPages: n(24) };
  return [sample.pgrp, sample.ticks, sample.childTicks, sample.rssPages].every((v) => Number.isFinite(v) && v >= 0) ? sample : null;
}

export interface GroupOfInstance {
  id: string;
  /** The group leader's pid, which is the group id. */
  pgid: number;
  memoryLimitBytes: number | null;
}

/** Sums the samples per wanted group; a group without a live process is left out. Pure, for tests. */
export function sumGroups(groups: readonly GroupOfInstance[], samples: Iterable<{ pid: number; sample: ProcSample }>, units: { clkTck: number; pageSize: number }): InstanceUsage[] {
  const totals = new Map<number, { ticks: number; pages: number; live: boolean }>();
  for (const g of groups) totals.set(g.pgid, { ticks: 0, pages: 0, live: false });
  for (const { pid, sample } of samples) {
    const total = totals.get(sample.pgrp);
    if (!total || sample.state === 'Z' || sample.state === 'X') continue;
    total.ticks += sample.ticks + (pid === sample.pgrp ? sample.childTicks : 0);
    total.pages += sample.rssPages;
    total.live = true;
  }
  return groups.flatMap((g) => {
    const total = totals.get(g.pgid)!;
    if (!total.live || total.pages === 0) return [];
    return [{ id: g.id, cpuSeconds: total.ticks / units.clkTck, memoryBytes: total.pages * units.pageSize, memoryLimitBytes: g.memoryLimitBytes }];
  });
}

/** One /proc scan for all the groups. */
export function groupsUsage(groups: readonly GroupOfInstance[]): InstanceUsage[] {
  if (groups.length === 0) return [];
  const samples: { pid: number; sample: ProcSample }[] = [];
  for (const pid of listPids()) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // it ended while we looked
    }
    const sample = parseUsageStat(text);
    if (sample) samples.push({ pid, sample });
  }
  return sumGroups(groups, samples, units());
}

let cached: { clkTck: number; pageSize: number } | undefined;
function units(): { clkTck: number; pageSize: number } {
  return (cached ??= { clkTck: getconf('CLK_TCK', 100), pageSize: getconf('PAGESIZE', 4096) });
}

function getconf(name: string, fallback: number): number {
  try {
    const value = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

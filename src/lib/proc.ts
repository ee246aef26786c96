/**
 * Thin adapters over Linux /proc and process-group signals. A pid alone can be recycled, so a process is
 * identified by pid + start time (field 22 of /proc/<pid>/stat), and a zombie counts as dead (once all
 * its threads are): it runs nothing, and nobody may ever reap it when its parent (a dead daemon) was
 * replaced by a non-reaping init.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  /** R, S, D, Z, T, ... (field 3). */
  state: string;
  /** Process group id (field 5). */
  pgrp: number;
  /** Start time in clock ticks after boot (field 22): with the pid, a unique process identity. */
  startTime: number;
}

/** Parses /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses, so split after the last ')'. */
export function parseStat(pid: number, text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state), fields[2] is field 5 (pgrp), fields[19] is field 22 (starttime).
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (!state || !Number.isInteger(pgrp) || !Number.isFinite(startTime)) return null;
  return { pid, state, pgrp, startTime };
}

export function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * The CPU time a process has used (user + system, fields 14 and 15 of /proc/<pid>/stat, all its threads),
 * in ms; null when it cannot be read. /proc counts in USER_HZ ticks, which Linux fixes at 100 for userspace.
 */
export function cpuTimeMs(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[11] is field 14 (utime), fields[12] field 15 (stime).
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}

const exited = (state: string) => state === 'Z' || state === 'X';

/**
 * Gone, or a zombie whose threads are all gone too. The leader thread of a multi-threaded process (any
 * Node app) can turn zombie while its other threads are still exiting and holding the process's files,
 * such as its listening socket, open: until they are done the process still answers on its port.
 */
export function isDead(stat: ProcStat | null): boolean {
  if (!stat) return true;
  if (!exited(stat.state)) return false;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${stat.pid}/task`);
  } catch {
    return true;
  }
  for (const tid of tids) {
    if (Number(tid) === stat.pid) continue;
    try {
      const thread = parseStat(Number(tid), readFileSync(`/proc/${stat.pid}/task/${tid}/stat`, 'utf8'));
      if (thread && !exited(thread.state)) return false;
    } catch {
      // the thread finished while we looked
    }
  }
  return true;
}

/** True when `pid` is still the process that started at `startTime` and has not exited. */
export function isSameProcessAlive(pid: number, startTime: number | null): boolean {
  if (startTime === null) return false;
  const stat = readStat(pid);
  return !isDead(stat) && stat!.startTime === startTime;
}

export function listPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

/** The real, effective, saved and filesystem uids of a process (the Uid: line of /proc/<pid>/status); null when it is gone. */
export function readUids(pid: number): number[] | null {
  try {
    const line = /^Uid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return line ? line[1].trim().split(/\s+/).map(Number) : null;
  } catch {
    return null;
  }
}

/** The environment a process was started with; null when it is gone or not ours to read. */
export function readEnviron(pid: number): Record<string, string> | null {
  let raw: Buffer;
  try {
    raw = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return null;
  }
  const env: Record<string, string> = {};
  for (const entry of raw.toString('utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** The groups among `pgids` that still have a live (non-zombie) member: one /proc scan for them all. */
export function liveGroups(pgids: readonly number[]): number[] {
  const wanted = new Set(pgids.filter(groupExists));
  if (wanted.size === 0) return [];
  const live = new Set<number>();
  for (const pid of listPids()) {
    const stat = readStat(pid);
    if (stat && wanted.has(stat.pgrp) && !live.has(stat.pgrp) && !isDead(stat)) live.add(stat.pgrp);
    if (live.size === wanted.size) break;
  }
  return [...live];
}

function groupExists(pgid: number): boolean {
  if (!safeGroup(pgid)) return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends a signal to a whole process group; false when the group no longer exists. Refuses berth's own group. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!safeGroup(pgid)) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

// kill(-0) or kill(-1) would hit our own group or every process we may signal: never let a bad number through.
function safeGroup(pgid: number): boolean {
  return Number.isInteger(pgid) && pgid > 1 && pgid !== ownGroup();
}

// berth never changes its own process group, so it is read once.
let ownPgrp: number | undefined;
function ownGroup(): number {
  return (ownPgrp ??= readStat(process.pid)?.pgrp ?? process.pid);
}

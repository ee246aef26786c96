/**
 * Finds the processes this berth owns by the marker every one of them carries in its environment:
 * BERTH_OWNER=<ownerId>, plus BERTH_INSTANCE (instances and their children) or BERTH_BUILD (build steps).
 * This is how berth finds what no state file mentions: orphans of a crash between spawn and state
 * write, and build processes of a daemon that died mid-build.
 */
import { isDead, listPids, readEnviron, readStat } from '../../lib/proc.ts';

export interface OwnedProcess {
  pid: number;
  pgrp: number;
  startTime: number;
  instance?: string;
  build?: string;
  app?: string;
  release?: string;
  process?: string;
}

export function findOwnedProcesses(ownerId: string): OwnedProcess[] {
  const found: OwnedProcess[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const env = readEnviron(pid);
    if (!env || env.BERTH_OWNER !== ownerId) continue;
    const stat = readStat(pid);
    if (!stat || isDead(stat)) continue;
    found.push({
      pid,
      pgrp: stat.pgrp,
      startTime: stat.startTime,
      ...(env.BERTH_INSTANCE ? { instance: env.BERTH_INSTANCE } : {}),
      ...(env.BERTH_BUILD ? { build: env.BERTH_BUILD } : {}),
      ...(env.BERTH_APP ? { app: env.BERTH_APP } : {}),
      ...(env.BERTH_RELEASE ? { release: env.BERTH_RELEASE } : {}),
      ...(env.BERTH_PROCESS ? { process: env.BERTH_PROCESS } : {}),
    });
  }
  return found;
}

/** The process groups holding processes of one instance (or one build), by their environment marker. */
export function ownedGroups(ownerId: string, match: { instance?: string; build?: string }): number[] {
  const groups = new Set<number>();
  for (const p of findOwnedProcesses(ownerId)) {
    if ((match.instance && p.instance === match.instance) || (match.build && p.build === match.build)) groups.add(p.pgrp);
  }
  return [...groups];
}

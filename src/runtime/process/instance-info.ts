/**
 * How the process driver reports instances: from a supervised or merely recorded state file, and for
 * orphans, from nothing but the BERTH_* environment of their processes.
 */
import type { InstanceInfo } from '../driver.ts';
import type { OwnedProcess } from './owned.ts';
import { isSameProcessAlive } from '../../lib/proc.ts';
import type { InstanceState } from './state-file.ts';

export const HOST = '127.0.0.1';

export function infoFromState(state: InstanceState, detail: Record<string, string> = {}): InstanceInfo {
  const { spec } = state;
  const running = state.state === 'running';
  return {
    id: spec.id,
    app: spec.app,
    release: spec.release,
    process: spec.process,
    state: state.state,
    address: running && state.port !== null ? { host: HOST, port: state.port } : null,
    ...(running && state.pid ? { pid: state.pid } : {}),
    restarts: state.restarts,
    ...(state.lastExit ? { lastExit: state.lastExit } : {}),
    detail,
  };
}

/** A state file nobody supervises yet (before adopt()): reported as the file says, checked for life. */
export function unsupervisedInfo(state: InstanceState): InstanceInfo {
  const dead = state.state === 'running' && !(state.pid !== null && isSameProcessAlive(state.pid, state.startTime));
  const info = infoFromState(state, { supervision: 'none' });
  return dead ? { ...info, state: 'exited', address: null } : info;
}

/**
 * Instances known only by their processes' environment (a daemon died between spawn and state write):
 * one entry per BERTH_INSTANCE that `known` does not claim, with `detail.orphan = 'true'`.
 */
export function orphanInfos(processes: OwnedProcess[], known: (id: string) => boolean): InstanceInfo[] {
  const byInstance = new Map<string, OwnedProcess[]>();
  for (const p of processes) {
    if (p.instance && !known(p.instance)) byInstance.set(p.instance, [...(byInstance.get(p.instance) ?? []), p]);
  }
  return [...byInstance].map(([id, members]) => {
    const leader = members.find((p) => p.pid === p.pgrp) ?? [...members].sort((a, b) => a.pid - b.pid)[0];
    return {
      id,
      app: leader.app ?? '',
      release: leader.release ?? '',
      process: leader.process ?? '',
      state: 'running',
      address: null,
      pid: leader.pid,
      restarts: 0,
      detail: { orphan: 'true', pgid: String(leader.pgrp) },
    };
  });
}

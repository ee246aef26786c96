/**
 * Everything a fake "host" holds across driver restarts: built artifacts, instance records (the fake's
 * state files) with their simulated processes, and captured logs. Two fake drivers given the same
 * FakeState behave like a daemon before and after a restart: processes keep running in between.
 */
import type { ExitInfo, InstanceInfo, InstanceRunState, InstanceSpec, LogLine } from '../driver.ts';
import type { FakeBehaviour } from './behaviour.ts';
import type { FakeProcess } from './process.ts';

export interface FakeArtifact {
  behaviour: FakeBehaviour;
}

export interface FakeInstance {
  spec: InstanceSpec;
  behaviour: FakeBehaviour;
  state: Exclude<InstanceRunState, 'missing'>;
  port: number | null;
  restarts: number;
  crashes: number[];
  lastExit?: ExitInfo;
  /** When a restarting instance is due to start again (epoch ms on the driver's clock). */
  restartAt?: number;
  process: FakeProcess | null;
  /** When the current process started (driver's clock). */
  processStartedAt?: number;
  /** Set while stop() runs, so the exit it causes is not taken for a crash. */
  stopping: boolean;
}

export interface FakeState {
  nextPid: number;
  artifacts: Map<string, FakeArtifact>;
  instances: Map<string, FakeInstance>;
  logs: Map<string, LogLine[]>;
  /** Whose logs they are, so removeLogs(app, release) finds them after the instance is gone. */
  logOwners: Map<string, { app: string; release: string }>;
  logListeners: Map<string, Set<(line: LogLine) => void>>;
}

export function createFakeState(): FakeState {
  return { nextPid: 1000, artifacts: new Map(), instances: new Map(), logs: new Map(), logOwners: new Map(), logListeners: new Map() };
}

/** An instance as the port reports it. */
export function fakeInfo(r: FakeInstance): InstanceInfo {
  return {
    id: r.spec.id,
    app: r.spec.app,
    release: r.spec.release,
    process: r.spec.process,
    state: r.state,
    address: r.state === 'running' && r.port !== null ? { host: '127.0.0.1', port: r.port } : null,
    ...(r.process && r.process.alive() ? { pid: r.process.pid } : {}),
    restarts: r.restarts,
    ...(r.lastExit ? { lastExit: r.lastExit } : {}),
  };
}

/** Forgets the logs whose owner matches (removeLogs, removeApp). */
export function forgetFakeLogs(state: FakeState, match: (owner: { app: string; release: string }) => boolean): void {
  for (const [id, owner] of state.logOwners) {
    if (!match(owner)) continue;
    state.logs.delete(id);
    state.logOwners.delete(id);
  }
}

/** Stores a line that has already been masked and tells followers about it. */
export function appendFakeLog(state: FakeState, line: LogLine): void {
  const lines = state.logs.get(line.instance) ?? [];
  lines.push(line);
  state.logs.set(line.instance, lines);
  for (const listener of state.logListeners.get(line.instance) ?? []) listener(line);
}

export function onFakeLog(state: FakeState, id: string, listener: (line: LogLine) => void): () => void {
  const set = state.logListeners.get(id) ?? new Set();
  set.add(listener);
  state.logListeners.set(id, set);
  return () => set.delete(listener);
}

/**
 * Makes an instance's process die on its own (default SIGKILL, as `kill -9` from outside would); resolves
 * once it is dead. For tests of supervision and restart handling.
 */
export async function crashFakeInstance(state: FakeState, id: string, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
  const proc = state.instances.get(id)?.process;
  if (!proc || !proc.alive()) return;
  proc.kill(signal);
  await proc.exited;
}

/** Artifact references that exist now. */
export function fakeArtifacts(state: FakeState): string[] {
  return [...state.artifacts.keys()];
}

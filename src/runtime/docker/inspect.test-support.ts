/** ContainerInspect answers as the engine gives them, for the pure tests of the docker runtime. */
import type { ContainerInspect } from './engine.ts';

export const T0 = Date.parse('2030-01-01T00:00:00.000Z');
export const iso = (ms: number) => new Date(ms).toISOString();

export interface InspectOverrides {
  labels?: Record<string, string>;
  state?: Partial<ContainerInspect['State']>;
  restartCount?: number;
  memory?: number;
  stopTimeout?: number;
  stopSignal?: string;
  ip?: string;
}

/** A container that started at T0 and exited at T0 + 60 s with code 1, unless told otherwise. */
export function inspectOf(overrides: InspectOverrides = {}): ContainerInspect {
  const config: ContainerInspect['Config'] & { StopSignal?: string } = {
    Labels: overrides.labels ?? {},
    Image: 'img',
    Env: [],
    ...(overrides.stopTimeout !== undefined ? { StopTimeout: overrides.stopTimeout } : {}),
    ...(overrides.stopSignal !== undefined ? { StopSignal: overrides.stopSignal } : {}),
  };
  return {
    Id: 'c0ffee000000000000',
    Name: '/berth_ins_1',
    Config: config,
    RestartCount: overrides.restartCount ?? 0,
    State: { Status: 'exited', Running: false, Restarting: false, OOMKilled: false, Pid: 0, ExitCode: 1, StartedAt: iso(T0), FinishedAt: iso(T0 + 60_000), ...overrides.state },
    NetworkSettings: { Networks: overrides.ip ? { net: { IPAddress: overrides.ip } } : {} },
    HostConfig: { Memory: overrides.memory ?? 0 },
  };
}

/** The same container, running (started at T0). */
export const runningInspect = (overrides: InspectOverrides = {}) =>
  inspectOf({ ...overrides, state: { Status: 'running', Running: true, ExitCode: 0, FinishedAt: '0001-01-01T00:00:00Z', Pid: 4242, ...overrides.state } });

/** The measurements themselves: wrk runs against one target, with the CPU its processes spent meanwhile. */
import { httpRequest } from '../lib/http.ts';
import { cpuTicks, processTree, tcpActiveOpens, ticksBetween } from '../lib/procs.ts';
import { runWrk, type WrkOptions, type WrkResult } from '../lib/wrk.ts';
import type { Target } from './targets/target.ts';

export interface Plan {
  rounds: number;
  throughput: { threads: number; connections: number; durationS: number; warmupS: number };
  latency: { threads: number; connections: number; durationS: number };
  idleWaitMs: number;
}

/** What the issue asks for; about 4 minutes on 2 cores. */
export const FULL_PLAN: Plan = {
  rounds: 3,
  throughput: { threads: 2, connections: 64, durationS: 10, warmupS: 2 },
  latency: { threads: 1, connections: 1, durationS: 5 },
  idleWaitMs: 5000,
};

/** BENCH_QUICK=1: checks the whole pipeline in ~30 s; its numbers are too short to mean anything. */
export const QUICK_PLAN: Plan = {
  rounds: 1,
  throughput: { threads: 2, connections: 64, durationS: 1, warmupS: 1 },
  latency: { threads: 1, connections: 1, durationS: 1 },
  idleWaitMs: 1000,
};

export interface ThroughputRun {
  wrk: WrkResult;
  warmup: WrkResult;
  /** CPU time of the proxy's processes per completed request, microseconds (undefined: no proxy). */
  proxyCpuUs?: number;
  /** Average cores the proxy kept busy during the run. */
  proxyCores?: number;
  upstreamCpuUs: number;
  /**
   * TCP connections opened on the machine during the run: wrk's own plus any the proxy opened to the
   * upstream. A proxy that keeps its upstream connections shows about `connections`; one that churns them, many more.
   */
  tcpConnects: number;
}

export interface Meter {
  plan: Plan;
  signal?: AbortSignal;
  host: string;
  upstreamPid: number;
  ticksPerSecond: number;
}

const wrkFor = (target: Target, meter: Meter, shape: Omit<WrkOptions, 'url' | 'headers'>): WrkOptions => ({
  ...shape,
  url: `http://127.0.0.1:${target.port}/`,
  headers: [`Host: ${meter.host}`],
  signal: meter.signal,
});

/** One request must come back as the upstream's `hello world`: benchmarking a 404 page would prove nothing. */
export async function probe(target: Target, host: string): Promise<void> {
  const reply = await httpRequest(`http://127.0.0.1:${target.port}/`, { headers: { host } });
  if (reply.status !== 200 || reply.body !== 'hello world\n') {
    throw new Error(`${target.label} answered ${reply.status} ${JSON.stringify(reply.body.slice(0, 200))} instead of the upstream's hello world`);
  }
}

export async function throughputRun(target: Target, meter: Meter): Promise<ThroughputRun> {
  const { threads, connections, durationS, warmupS } = meter.plan.throughput;
  const shape = { threads, connections };
  const warmup = await runWrk(wrkFor(target, meter, { ...shape, durationS: warmupS }));
  // The tree is taken after the warm-up so that every worker the proxy forks on demand is in it.
  const proxyPids = target.pid === undefined ? [] : processTree(target.pid);
  const upstreamPids = processTree(meter.upstreamPid);
  const before = { proxy: cpuTicks(proxyPids), upstream: cpuTicks(upstreamPids), at: performance.now(), tcp: tcpActiveOpens() };
  const wrk = await runWrk(wrkFor(target, meter, { ...shape, durationS }));
  const after = { proxy: cpuTicks(proxyPids), upstream: cpuTicks(upstreamPids), at: performance.now(), tcp: tcpActiveOpens() };
  const toUs = (ticks: number) => (ticks / meter.ticksPerSecond) * 1e6;
  const proxyUs = toUs(ticksBetween(before.proxy, after.proxy));
  return {
    wrk,
    warmup,
    proxyCpuUs: target.pid === undefined ? undefined : proxyUs / wrk.requests,
    proxyCores: target.pid === undefined ? undefined : proxyUs / ((after.at - before.at) * 1e3),
    upstreamCpuUs: toUs(ticksBetween(before.upstream, after.upstream)) / wrk.requests,
    tcpConnects: after.tcp - before.tcp,
  };
}

export function latencyRun(target: Target, meter: Meter): Promise<WrkResult> {
  return runWrk(wrkFor(target, meter, meter.plan.latency));
}

/**
 * The measurements: each a load run against one proxy with the CPU its process tree spent meanwhile.
 * Every run is fixed in duration (or in count, with a kill timer), so the whole benchmark is bounded.
 */
import { cpuTicks, processTree, tcpActiveOpens, ticksBetween } from '../lib/procs.ts';
import { runWrk, type WrkResult } from '../lib/wrk.ts';
import { runH2load, type H2loadResult } from './h2load.ts';
import type { TlsTarget } from './target.ts';
import { runHttpsWrk } from './wrk-https.ts';

export interface TlsPlan {
  rounds: number;
  /** HTTPS HTTP/1.1 keep-alive: wrk. */
  h1: { threads: number; connections: number; durationS: number; warmupS: number };
  /** h2: h2load, `streams` concurrent streams on each of `clients` connections. */
  h2: { threads: number; clients: number; streams: number; durationS: number; warmupS: number };
  /** One request per connection, wrk with `Connection: close` (wrk resumes its sessions). */
  resumed: { threads: number; connections: number; durationS: number };
  /** One request per connection, h2load: `clients` fresh clients, all full handshakes. */
  full: { threads: number; clients: number };
  /** wrk at one connection: the added latency per hop. */
  latency: { durationS: number };
  /** Length of the profiled h2 run. */
  profileS: number;
}

/** What the issue asks for; about 5 minutes on 2 cores. Five shorter rounds rather than three long ones: paired ratios, more of them. */
export const FULL_PLAN: TlsPlan = {
  rounds: 5,
  h1: { threads: 2, connections: 50, durationS: 8, warmupS: 2 },
  h2: { threads: 2, clients: 50, streams: 10, durationS: 8, warmupS: 2 },
  resumed: { threads: 2, connections: 50, durationS: 5 },
  full: { threads: 2, clients: 400 },
  latency: { durationS: 5 },
  profileS: 8,
};

/** BENCH_QUICK=1: checks the whole pipeline in about a minute; its numbers are too short to mean anything. */
export const QUICK_PLAN: TlsPlan = {
  rounds: 1,
  h1: { threads: 2, connections: 50, durationS: 1, warmupS: 1 },
  h2: { threads: 2, clients: 50, streams: 10, durationS: 1, warmupS: 1 },
  resumed: { threads: 2, connections: 50, durationS: 1 },
  full: { threads: 2, clients: 50 },
  latency: { durationS: 1 },
  profileS: 2,
};

export type Kind = 'h1' | 'h2' | 'resumed' | 'full';

export interface Run {
  rps: number;
  requests: number;
  /** Proxy CPU (utime + stime of its whole process tree) per completed request, microseconds. */
  cpuUs: number;
  /** Average cores the proxy kept busy. */
  cores: number;
  /** Non-2xx responses plus socket/request errors, warm-ups included. */
  errors: number;
  /**
   * TCP connections opened on the machine during the measured part (Tcp ActiveOpens): the load
   * generator's, plus those the proxy opened to the upstream. A proxy that keeps its upstream
   * connections shows about the client's count; one that churns them, many more.
   */
  tcpConnects: number;
  /** wrk runs only: latency percentiles at this concurrency. */
  p50Us?: number;
  p99Us?: number;
  /** h2load runs only: what was negotiated. */
  tls?: H2loadResult['tls'];
}

export interface Meter {
  plan: TlsPlan;
  host: string;
  /** Where wrk's connect scripts go. */
  dir: string;
  ticksPerSecond: number;
  signal?: AbortSignal;
}

const wrkErrors = (w: WrkResult) => w.non2xx + w.socketErrors.connect + w.socketErrors.read + w.socketErrors.write + w.socketErrors.timeout;
const h2Errors = (h: H2loadResult) => h.requests.total - h.requests.succeeded + h.status['3xx'] + h.status['4xx'] + h.status['5xx'];

interface Used {
  us: number;
  wallUs: number;
  tcpConnects: number;
}

/** CPU of `pid`'s process tree, and TCP connections opened, from now until the returned function is called. */
function meterFrom(pid: number, ticksPerSecond: number): () => Used {
  const pids = processTree(pid);
  const before = cpuTicks(pids);
  const tcp = tcpActiveOpens();
  const at = performance.now();
  return () => ({ us: (ticksBetween(before, cpuTicks(pids)) / ticksPerSecond) * 1e6, wallUs: (performance.now() - at) * 1e3, tcpConnects: tcpActiveOpens() - tcp });
}

export async function h1Run(target: TlsTarget, meter: Meter): Promise<Run> {
  const { threads, connections, durationS, warmupS } = meter.plan.h1;
  const base = { host: meter.host, port: target.port, dir: meter.dir, threads, connections, signal: meter.signal };
  const warmup = await runHttpsWrk({ ...base, durationS: warmupS });
  const cpu = meterFrom(target.pid, meter.ticksPerSecond);
  const wrk = await runHttpsWrk({ ...base, durationS });
  const used = cpu();
  return { rps: wrk.rps, requests: wrk.requests, cpuUs: used.us / wrk.requests, cores: used.us / used.wallUs, errors: wrkErrors(wrk) + wrkErrors(warmup), tcpConnects: used.tcpConnects, p50Us: wrk.p50Us, p99Us: wrk.p99Us };
}

/**
 * h2load counts requests over `-D` only, after its own `--warm-up-time`, so the CPU meter starts when
 * the warm-up ends (a timer; tens of ms of slack on a 10 s run) and stops when h2load exits.
 */
export async function h2Run(target: TlsTarget, meter: Meter): Promise<Run> {
  const { threads, clients, streams, durationS, warmupS } = meter.plan.h2;
  const base = { host: meter.host, port: target.port, threads, clients, streams, signal: meter.signal };
  let stop: (() => Used) | undefined;
  const timer = setTimeout(() => (stop = meterFrom(target.pid, meter.ticksPerSecond)), warmupS * 1000);
  const h2 = await runH2load({ ...base, durationS, warmupS }).finally(() => clearTimeout(timer));
  if (!stop) throw new Error(`h2load ended before its ${warmupS} s warm-up did`);
  const used = stop();
  const requests = h2.requests.succeeded;
  if (h2.tls.alpn !== 'h2') throw new Error(`${target.label}: h2load negotiated ${h2.tls.alpn}, not h2`);
  return { rps: h2.rps, requests, cpuUs: used.us / requests, cores: used.us / used.wallUs, errors: h2Errors(h2), tcpConnects: used.tcpConnects, tls: h2.tls };
}

export async function resumedRun(target: TlsTarget, meter: Meter): Promise<Run> {
  const { threads, connections, durationS } = meter.plan.resumed;
  const cpu = meterFrom(target.pid, meter.ticksPerSecond);
  const wrk = await runHttpsWrk({ host: meter.host, port: target.port, dir: meter.dir, threads, connections, durationS, headers: ['Connection: close'], signal: meter.signal });
  const used = cpu();
  return { rps: wrk.rps, requests: wrk.requests, cpuUs: used.us / wrk.requests, cores: used.us / used.wallUs, errors: wrkErrors(wrk), tcpConnects: used.tcpConnects, p50Us: wrk.p50Us, p99Us: wrk.p99Us };
}

/** `clients` fresh h2load clients over HTTP/1.1, one request each: every connection a full handshake. */
export async function fullRun(target: TlsTarget, meter: Meter): Promise<Run> {
  const { threads, clients } = meter.plan.full;
  const cpu = meterFrom(target.pid, meter.ticksPerSecond);
  const h2 = await runH2load({ host: meter.host, port: target.port, threads, clients, requests: clients, h1: true, graceS: 60, signal: meter.signal });
  const used = cpu();
  const requests = h2.requests.succeeded;
  return { rps: h2.rps, requests, cpuUs: used.us / Math.max(1, requests), cores: used.us / used.wallUs, errors: h2Errors(h2), tcpConnects: used.tcpConnects, tls: h2.tls };
}

export const RUNS: Record<Kind, (target: TlsTarget, meter: Meter) => Promise<Run>> = { h1: h1Run, h2: h2Run, resumed: resumedRun, full: fullRun };

/** One connection over HTTPS (HTTP/1.1), for the added latency per hop. */
export function latencyRun(target: TlsTarget, meter: Meter): Promise<WrkResult> {
  return runHttpsWrk({ host: meter.host, port: target.port, dir: meter.dir, threads: 1, connections: 1, durationS: meter.plan.latency.durationS, signal: meter.signal });
}

/** The baseline: the upstream itself at one connection, plain HTTP, no proxy. */
export function directLatencyRun(upstreamPort: number, meter: Meter): Promise<WrkResult> {
  return runWrk({ url: `http://127.0.0.1:${upstreamPort}/`, threads: 1, connections: 1, durationS: meter.plan.latency.durationS, headers: [`Host: ${meter.host}`], signal: meter.signal });
}

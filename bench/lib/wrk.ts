/** Running wrk and reading its report. */
import { spawn } from 'node:child_process';

export interface WrkOptions {
  url: string;
  threads: number;
  connections: number;
  durationS: number;
  headers?: string[];
  /** A Lua script (`-s`), e.g. to connect somewhere other than the URL's host. */
  script?: string;
  /** Aborting kills wrk (the benchmark is being interrupted). */
  signal?: AbortSignal;
}

export interface WrkResult {
  requests: number;
  durationS: number;
  rps: number;
  /** Latency percentiles from `--latency`, in microseconds. */
  p50Us: number;
  p99Us: number;
  non2xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  raw: string;
}

export const wrkArgs = (o: WrkOptions): string[] => [
  `-t${o.threads}`,
  `-c${o.connections}`,
  `-d${o.durationS}s`,
  '--latency',
  ...(o.script ? ['-s', o.script] : []),
  ...(o.headers ?? []).flatMap((h) => ['-H', h]),
  o.url,
];

/** Runs wrk, killing it if it overruns its duration by more than 15 s (a wedged target must not hang the run). */
export function runWrk(options: WrkOptions): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn('wrk', wrkArgs(options), { stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c));
    proc.stderr.on('data', (c: Buffer) => (out += c));
    const timer = setTimeout(() => proc.kill('SIGKILL'), (options.durationS + 15) * 1000);
    proc.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`wrk: ${error.message}`));
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`wrk exited with ${signal ?? code}:\n${out}`));
      try {
        resolve(parseWrk(out));
      } catch (error) {
        reject(error);
      }
    });
  });
}

const UNIT_US: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };

function durationUs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`unreadable wrk duration "${text}"`);
  // wrk's histogram has microsecond resolution; rounding drops float noise such as 4070.0000000000005.
  return Math.round(Number(match[1]) * UNIT_US[match[2]]);
}

export function parseWrk(out: string): WrkResult {
  const need = (re: RegExp, what: string) => {
    const match = re.exec(out);
    if (!match) throw new Error(`wrk output has no ${what}:\n${out}`);
    return match;
  };
  const total = need(/(\d+) requests in ([\d.]+)(us|ms|s|m|h)/, 'request count');
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: Number(total[1]),
    durationS: durationUs(`${total[2]}${total[3]}`) / 1e6,
    rps: Number(need(/Requests\/sec:\s+([\d.]+)/, 'Requests/sec')[1]),
    p50Us: durationUs(need(/^\s+50%\s+(\S+)/m, '50th percentile (was --latency given?)')[1]),
    p99Us: durationUs(need(/^\s+99%\s+(\S+)/m, '99th percentile')[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
    },
    raw: out,
  };
}

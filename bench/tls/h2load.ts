/**
 * Running h2load (Debian's nghttp2-client) and reading its report. h2load takes the URL's host as SNI
 * and `:authority`, and `--connect-to` sends the socket to 127.0.0.1, so no name has to resolve.
 * Each h2load client is a fresh TLS connection with no session to resume: its handshakes are full ones.
 */
import { spawn } from 'node:child_process';

export interface H2loadOptions {
  host: string;
  port: number;
  threads: number;
  clients: number;
  /** Concurrent streams per client (`-m`). */
  streams?: number;
  /** Timing-based run (`-D`) after `--warm-up-time`; without it, `requests` decides the length. */
  durationS?: number;
  warmupS?: number;
  /** Total requests (`-n`) of a count-based run. */
  requests?: number;
  /** Speak HTTP/1.1 (ALPN http/1.1) instead of h2. */
  h1?: boolean;
  /** Kill h2load this long after its expected end (a wedged server must not hang the run). */
  graceS?: number;
  signal?: AbortSignal;
}

export interface H2loadResult {
  /** Requests/s over the measured part (after the warm-up). */
  rps: number;
  durationS: number;
  requests: { total: number; succeeded: number; failed: number; errored: number; timeout: number };
  status: { '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  /** Per-request time, microseconds: h2load reports mean and sd, not percentiles. */
  meanUs: number;
  maxUs: number;
  tls: { protocol: string; cipher: string; tempKey: string; alpn: string };
  raw: string;
}

export function h2loadArgs(o: H2loadOptions): string[] {
  return [
    `-t${o.threads}`,
    `-c${o.clients}`,
    ...(o.streams ? [`-m${o.streams}`] : []),
    ...(o.durationS ? [`-D${o.durationS}`, `--warm-up-time=${o.warmupS ?? 0}`] : [`-n${o.requests ?? o.clients}`]),
    ...(o.h1 ? ['--h1'] : []),
    `--connect-to=127.0.0.1:${o.port}`,
    `https://${o.host}:${o.port}/`,
  ];
}

export function runH2load(options: H2loadOptions): Promise<H2loadResult> {
  const expectedS = (options.durationS ?? 0) + (options.warmupS ?? 0);
  return new Promise((resolve, reject) => {
    const proc = spawn('h2load', h2loadArgs(options), { stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c));
    proc.stderr.on('data', (c: Buffer) => (out += c));
    const timer = setTimeout(() => proc.kill('SIGKILL'), (expectedS + (options.graceS ?? 30)) * 1000);
    proc.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`h2load: ${error.message}`));
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`h2load ${h2loadArgs(options).join(' ')} exited with ${signal ?? code}:\n${out}`));
      try {
        resolve(parseH2load(out));
      } catch (error) {
        reject(error);
      }
    });
  });
}

const UNIT_US: Record<string, number> = { us: 1, ms: 1e3, s: 1e6 };

function durationUs(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!match) throw new Error(`unreadable h2load duration "${text}"`);
  return Number(match[1]) * UNIT_US[match[2]];
}

export function parseH2load(out: string): H2loadResult {
  const need = (re: RegExp, what: string) => {
    const match = re.exec(out);
    if (!match) throw new Error(`h2load output has no ${what}:\n${out}`);
    return match;
  };
  const finished = need(/finished in ([\d.]+(?:us|ms|s)), ([\d.]+) req\/s/, '"finished in" line');
  const requests = need(/requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/, 'requests line');
  const status = need(/status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/, 'status codes line');
  const time = need(/time for request:\s+(\S+)\s+(\S+)\s+(\S+)/, '"time for request" line');
  const line = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(out)?.[1]?.trim() ?? '–';
  return {
    rps: Number(finished[2]),
    durationS: durationUs(finished[1]) / 1e6,
    requests: { total: Number(requests[1]), succeeded: Number(requests[2]), failed: Number(requests[3]), errored: Number(requests[4]), timeout: Number(requests[5]) },
    status: { '2xx': Number(status[1]), '3xx': Number(status[2]), '4xx': Number(status[3]), '5xx': Number(status[4]) },
    meanUs: durationUs(time[3]),
    maxUs: durationUs(time[2]),
    tls: { protocol: line('TLS Protocol'), cipher: line('Cipher'), tempKey: line('Server Temp Key'), alpn: line('Application protocol') },
    raw: out,
  };
}

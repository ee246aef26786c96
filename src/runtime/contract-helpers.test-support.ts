/**
 * Bounded waiting and probing helpers for the driver contract. Every wait has a deadline and fails with a
 * message saying what it waited for, so a broken driver makes a test fail, never hang or pass by luck.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { newId } from '../lib/ids.ts';
import type { Address, DriverEvent, InstanceSpec, LogLine, LogQuery, RuntimeDriver } from './driver.ts';

/**
 * A web instance of `artifact` for driver tests: app `contract`, release r1, `node server.js` on a port,
 * restarts after 100 ms (at most 5 a minute), 2 s to stop; each test overrides what it is about.
 */
export function instanceSpec(artifact: string, overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    id: newId('ins'),
    app: 'contract',
    release: 'r1',
    process: 'web',
    artifact,
    command: 'node server.js',
    env: {},
    port: true,
    restart: { maxRestarts: 5, windowMs: 60_000, backoffMs: 100, maxBackoffMs: 1_000 },
    stopTimeoutMs: 2_000,
    secrets: [],
    ...overrides,
  };
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rejects when `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after timeoutMs. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs: number; what: string; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError ? ` (last error: ${(lastError as Error).message})` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${cause}`);
    }
    await pause(options.intervalMs ?? 50);
  }
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** One GET without connection reuse (a pooled socket could outlive the server it points at). */
export function httpGet(address: Address, path: string, timeoutMs = 2_000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address.host, port: address.port, path, method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** GETs until it answers 200 and returns the parsed JSON body. */
export async function getJsonWhenUp<T = { version: string; env: Record<string, string> }>(
  address: Address,
  path: string,
  timeoutMs: number,
): Promise<T> {
  return waitFor(
    async () => {
      const answer = await httpGet(address, path);
      return answer.status === 200 ? (JSON.parse(answer.body) as T) : undefined;
    },
    { timeoutMs, what: `GET http://${address.host}:${address.port}${path} to answer 200` },
  );
}

/** True when a TCP connection to the address is refused (nothing listens there any more). */
export function connectionRefused(address: Address, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address.host, port: address.port });
    // A SYN to an address that vanished just goes unanswered: silence is "nothing answers" too.
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(true);
    }, timeoutMs);
    socket.on('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(false);
    });
    // Refused (a host port nobody listens on) or unreachable (a container address that is gone): nothing answers.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET'].includes(error.code ?? ''));
    });
  });
}

/** Reads a non-following log query to the end, bounded in time. */
export async function readLogs(driver: RuntimeDriver, id: string, query: LogQuery = {}, timeoutMs = 5_000): Promise<LogLine[]> {
  const collect = async () => {
    const lines: LogLine[] = [];
    for await (const line of driver.logs(id, { ...query, follow: false })) lines.push(line);
    return lines;
  };
  return within(collect(), timeoutMs, `logs of ${id}`);
}

/** Records a driver's events and waits for one matching a predicate. */
export function recordEvents(driver: RuntimeDriver): {
  events: DriverEvent[];
  waitFor<E extends DriverEvent>(match: (e: DriverEvent) => e is E, timeoutMs: number, what: string): Promise<E>;
  stop(): void;
} {
  const events: DriverEvent[] = [];
  const stop = driver.subscribe((event) => events.push(event));
  return {
    events,
    stop,
    waitFor: (match, timeoutMs, what) => waitFor(() => events.find(match), { timeoutMs, what, intervalMs: 20 }),
  };
}

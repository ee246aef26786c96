/**
 * A simulated OS process: a real HTTP server on 127.0.0.1 that behaves as a FakeBehaviour says. It lives
 * in FakeState, not in a driver, so it outlives a driver that is closed (like a detached process would).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Clock } from '../../lib/clock.ts';
import type { ExitInfo } from '../driver.ts';
import { expand, type FakeBehaviour } from './behaviour.ts';

export interface FakeProcess {
  readonly pid: number;
  /** The port it listens on (or was given as PORT), null without a port. */
  readonly port: number | null;
  readonly env: Record<string, string>;
  alive(): boolean;
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
  /** Settles once the process has ended. */
  readonly exited: Promise<ExitInfo>;
  /**
   * What the simulated process uses, as the fake counts it (deterministic, and real for what it measures):
   * CPU seconds are the time its server spent answering requests; memory is a nominal FAKE_BASE_MEMORY
   * plus the bytes of output it has written.
   */
  usage(): { cpuSeconds: number; memoryBytes: number };
}

/** The footprint every fake process reports before it has written anything: a small Node app's order of magnitude. */
export const FAKE_BASE_MEMORY = 16 * 1024 * 1024;

export interface SpawnFakeOptions {
  pid: number;
  behaviour: FakeBehaviour;
  /** The environment without PORT; PORT is added once the port is known. */
  env: Record<string, string>;
  /** Whether the instance gets a PORT; preferredPort is tried first (restart on the same port). */
  port: boolean;
  preferredPort?: number | null;
  clock: Clock;
  write: (stream: 'stdout' | 'stderr', line: string) => void;
}

export async function spawnFakeProcess(options: SpawnFakeOptions): Promise<FakeProcess> {
  const { behaviour, clock } = options;
  const env = { ...options.env };
  let busyMs = 0;
  let written = 0;
  const write = (stream: 'stdout' | 'stderr', line: string) => {
    written += Buffer.byteLength(line) + 1;
    options.write(stream, line);
  };
  const life = new AbortController();
  const answer = async (url: string, res: ServerResponse) => {
    if (url === '/health') {
      if (behaviour.health === 'slow') await clock.sleep(behaviour.healthDelayMs ?? 1_000, life.signal).catch(() => {});
      res.writeHead(behaviour.health === 'fail' ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(behaviour.health === 'fail' ? 'unhealthy' : 'ok');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ version: behaviour.version ?? 'v1', env }));
  };

  const server = createServer((req, res) => {
    const began = performance.now();
    res.once('close', () => (busyMs += performance.now() - began));
    void answer(req.url ?? '/', res);
  });
  let port: number | null = null;
  if (options.port) {
    port = await listen(server, options.preferredPort ?? 0).catch(() => listen(server, 0));
    // An instance told not to listen still gets a PORT; it just never serves on it.
    if (behaviour.port === false) await closeServer(server);
    env.PORT = String(port);
  }

  let alive = true;
  let resolveExit!: (exit: ExitInfo) => void;
  const exited = new Promise<ExitInfo>((resolve) => (resolveExit = resolve));
  const exit = (code: number | null, signal: string | null) => {
    if (!alive) return;
    alive = false;
    life.abort();
    const info: ExitInfo = { code, signal, at: clock.now() };
    void closeServer(server).then(() => resolveExit(info));
  };

  for (const line of behaviour.logs ?? []) write('stdout', expand(line, env));
  for (const line of behaviour.stderr ?? []) write('stderr', expand(line, env));
  if (behaviour.repeat) void repeat(behaviour.repeat, clock, life.signal, (line) => write('stdout', line));
  if (behaviour.crashAfterMs !== undefined) {
    clock.sleep(behaviour.crashAfterMs, life.signal).then(
      () => exit(behaviour.exitCode ?? 1, null),
      () => {},
    );
  }

  return {
    pid: options.pid,
    port,
    env,
    alive: () => alive,
    kill: (signal) => {
      if (signal === 'SIGTERM' && behaviour.ignoreSigterm) return;
      exit(null, signal);
    },
    exited,
    usage: () => ({ cpuSeconds: busyMs / 1000, memoryBytes: FAKE_BASE_MEMORY + written }),
  };
}

async function repeat(spec: { everyMs: number; line: string }, clock: Clock, signal: AbortSignal, out: (line: string) => void) {
  for (let n = 1; ; n++) {
    try {
      await clock.sleep(spec.everyMs, signal);
    } catch {
      return;
    }
    out(`${spec.line} ${n}`);
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

// Helpers for the tests: a throw-away redis-server on a random port, free ports, polling.
import { spawn, spawnSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The redis-server binary, or null when it is not installed (the tests then skip, saying why). */
export function findRedisServer() {
  const bin = process.env.REDIS_SERVER_BIN || 'redis-server';
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? bin : null;
}

export const SKIP_NO_REDIS =
  'redis-server is not installed (apt-get install -y redis-server, or set REDIS_SERVER_BIN); skipping';

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn() until it returns a truthy value or throws nothing; fails after timeoutMs with the last error. */
export async function waitFor(fn, { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(intervalMs);
  }
}

/** Sends an inline PING; resolves with the first reply line, or null when nothing answers. */
function rawPing(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      socket.destroy();
      resolve(d.toString().split('\r\n', 1)[0]);
    });
    socket.on('error', () => resolve(null));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(null);
    });
  });
}

/**
 * Starts redis-server on a random port with its data in a temp dir, persistence off.
 * Returns { port, url, stop(), start(), destroy() }: stop() kills it (SIGKILL, like a crash) and waits
 * for the exit, start() brings it back on the same port, destroy() stops it and removes the temp dir.
 */
export async function startRedis({ bin = findRedisServer(), args = [] } = {}) {
  if (!bin) throw new Error(SKIP_NO_REDIS);
  const dir = mkdtempSync(join(tmpdir(), 'jobs-redis-'));
  const port = await freePort();
  let child = null;
  let output = '';

  const start = async () => {
    output = '';
    child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.exited = exited;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${output.slice(-500)}`);
        // With requirepass, PING answers -NOAUTH: any reply means it is up.
        return (await rawPing(port)) !== null;
      },
      { timeoutMs: 10_000, what: `redis-server on port ${port}` },
    );
  };

  const stop = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await child.exited;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    get pid() {
      return child?.pid;
    },
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

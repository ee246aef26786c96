/**
 * Helpers for the static server tests: the server run as a real child process (under any node
 * binary), plain HTTP requests that send their target untouched, and temporary site folders.
 * Test-only; nothing in berth imports this.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, symlink, utimes, writeFile } from 'node:fs/promises';
import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SERVER_JS = fileURLToPath(new URL('./static-server.js', import.meta.url));

const START_LIMIT_MS = 10_000;
const REQUEST_LIMIT_MS = 5_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Running {
  port: number;
  child: ChildProcess;
  /** Everything the server wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Settles when the process exits, whoever stopped it. */
  exited: Promise<Exit>;
  /** Sends `signal` and waits (bounded) for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/** Rejects after `ms` unless `promise` settles first, naming what was awaited. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Starts `node static-server.js root` and waits for the start line, which names the port
 * actually bound.
 */
export interface StartOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  env?: NodeJS.ProcessEnv;
  /** A copy of the server to run instead of the one in this folder. */
  script?: string;
}

export async function startServer(node: string, root: string, options: StartOptions = {}): Promise<Running> {
  const env = { ...process.env, PORT: String(options.port ?? 0), ...options.env };
  const child = spawn(node, [options.script ?? SERVER_JS, root], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const started = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const match = /^static: serving .+ on (\d+)$/m.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    exited.then((exit) => reject(new Error(`server exited (${exit.code ?? exit.signal}) before listening: ${stderr}`)));
  });
  const bound = await within(START_LIMIT_MS, 'static server start', started).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    port: bound,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return within(15_000, 'static server exit', exited);
    },
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  host?: string;
  agent?: Agent;
}

/** One HTTP request; the path goes out exactly as given (no dot-segment clean-up). */
export function request(port: number, path: string, options: RequestOptions = {}): Promise<Reply> {
  const reply = new Promise<Reply>((resolve, reject) => {
    const req = httpRequest(
      { host: options.host ?? '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString('utf8') });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
  return within(REQUEST_LIMIT_MS, `${options.method ?? 'GET'} ${path}`, reply);
}

/**
 * Writes a request line by hand over a socket, for targets an HTTP client would refuse or
 * rewrite (raw backslashes, dot segments). Returns the status and the whole raw reply.
 */
export function rawRequest(port: number, target: string): Promise<{ status: number; raw: string }> {
  const reply = new Promise<{ status: number; raw: string }>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let raw = '';
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => (raw += text));
    socket.on('error', reject);
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0), raw }));
    socket.write(`GET ${target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`);
  });
  return within(REQUEST_LIMIT_MS, `raw GET ${target}`, reply);
}

export type Entry = string | Buffer | { symlink: string };

/** Writes `entries` (relative path -> content or symlink target) under `root`. */
export async function writeSite(root: string, entries: Record<string, Entry>): Promise<void> {
  for (const [relative, entry] of Object.entries(entries)) {
    const file = join(root, relative);
    await mkdir(dirname(file), { recursive: true });
    if (typeof entry === 'object' && 'symlink' in entry) await symlink(entry.symlink, file);
    else await writeFile(file, entry);
  }
}

/** Gives every listed file the same mtime, the way a reproducible build or an archive would. */
export async function setMtimes(root: string, relatives: string[], when: Date): Promise<void> {
  for (const relative of relatives) await utimes(join(root, relative), when, when);
}

export function tempDir(prefix = 'berth-static-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Resolves to the stderr of a server that must refuse to start; one that starts anyway is stopped and fails. */
export async function startFailure(node: string, root: string, env: NodeJS.ProcessEnv = {}): Promise<{ exit: Exit; stderr: string }> {
  const child = spawn(node, [SERVER_JS, root], { env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    return { exit: await within(START_LIMIT_MS, 'static server refusing to start', exited), stderr };
  } finally {
    child.kill('SIGKILL');
  }
}

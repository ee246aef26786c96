/**
 * Helpers for the CLI tests: string sinks standing in for stdout/stderr, and a real HTTP server playing
 * the control API from canned handlers. Test-only; nothing in berth imports this.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Deployment } from '../model/wire.ts';
import type { Io, Output } from './io.ts';
import { main } from './main.ts';

export interface Sink extends Output {
  text: string;
}

export function sink(isTTY = false): Sink {
  const out: Sink = {
    text: '',
    isTTY,
    columns: 100,
    write(text: string) {
      out.text += text;
      return true;
    },
  };
  return out;
}

export interface TestIo extends Io {
  stdout: Sink;
  stderr: Sink;
}

export function testIo(options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string; tty?: boolean } = {}): TestIo {
  const stdin = Object.assign(Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]), { isTTY: false });
  return {
    stdout: sink(options.tty),
    stderr: sink(options.tty),
    stdin,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
  };
}

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (req: Recorded, res: ServerResponse) => void | Promise<void>;

export interface FakeApi {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

/** Routes are `METHOD /path` (no query); anything else answers berth's 404 JSON. */
export async function startFakeApi(routes: Record<string, Handler>): Promise<FakeApi> {
  const requests: Recorded[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const recorded: Recorded = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks) };
    requests.push(recorded);
    const handler = routes[`${recorded.method} ${recorded.path}`];
    if (!handler) return sendJson(res, 404, { error: { code: 'ROUTE_NOT_FOUND', message: `no endpoint ${recorded.method} ${recorded.path}` } });
    await handler(recorded, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Writes `events` as an event stream, each as `id`/`event`/`data` like the server does, then ends it. */
export function sendEvents(res: ServerResponse, events: readonly { seq: number; type: string }[], options: { end?: boolean } = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  res.write(': hello\n\n');
  for (const event of events) res.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  if (options.end !== false) res.end();
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A deployment as the API returns it: queued, no release yet; `over` changes what a test needs. */
export const deploymentFixture = (over: Partial<Deployment> = {}): Deployment => ({
  id: 'dep_1',
  app: 'hello',
  kind: 'deploy',
  state: 'queued',
  release: null,
  previousRelease: null,
  createdAt: '2024-05-01T12:00:00Z',
  finishedAt: null,
  urls: ['http://hello.localhost:8080'],
  error: null,
  ...over,
});

export interface CliRun {
  code: number;
  io: TestIo;
  api: FakeApi;
}

/**
 * Runs the CLI (`main`) against a fake API serving `routes`, in a fresh home directory (the login file,
 * config and data dir in it), with the API's URL and a token in the env; `env` adds to or overrides that.
 */
export async function runCli(argv: string[], routes: Record<string, Handler>, options: { cwd?: string; stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const api = await startFakeApi(routes);
  try {
    return await withTempDir(async (home) => {
      const io = testIo({
        env: { BERTH_URL: api.url, BERTH_TOKEN: 'tok', HOME: home, XDG_CONFIG_HOME: join(home, 'config'), BERTH_DATA: join(home, 'data'), ...options.env },
        cwd: options.cwd ?? home,
        stdin: options.stdin,
      });
      return { code: await main(argv, io), io, api };
    });
  } finally {
    await api.close();
  }
}

/**
 * API component tests without a network: `inject` hands an in-memory request to the real request
 * listener of the control API (the one createApiServer builds, with its auth, routing, input checks and
 * error answers) and reads what it wrote to an in-memory connection. `startApi` puts that API over a
 * real store on a temp SQLite file and the fake runtime driver (../deploy/kit.test-support.ts).
 * Test-only; nothing in berth imports it.
 */
import { IncomingMessage, ServerResponse, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { buildTar } from '../archive/archive.test-support.ts';
import { startKit, type Kit } from '../deploy/kit.test-support.ts';
import { newId } from '../lib/ids.ts';
import type { FakeBehaviour } from '../runtime/fake/behaviour.ts';
import type { ApiDeps } from './deps.ts';
import { createApiServer } from './server.ts';

export interface InjectRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** A string or bytes as they are; anything else as JSON. */
  body?: unknown;
  /**
   * The client goes away (its connection closes) once what it received so far, as text, passes this:
   * how a test ends a stream that would go on (`logs?follow=1`, a long `run`).
   */
  closeWhen?: (received: string) => boolean;
}

export interface InjectReply {
  status: number;
  /** Header names lowercased, as they went on the wire (Node's own `date`, `connection` included). */
  headers: Record<string, string>;
  /** The body as text (an event stream's whole text). */
  text: string;
  /** The parsed body of a JSON answer, else the text (`any`: tests read answers of every shape). */
  body: any;
}

/**
 * The connection under a request: it records what the response writes. A client that goes away is
 * `destroy()`: the response then closes as it would on a real socket, and the API's streams stop.
 */
class MemoryConnection extends Writable {
  readonly written: Buffer[] = [];
  readonly #closeWhen: ((received: string) => boolean) | undefined;
  remoteAddress = '127.0.0.1';
  remotePort = 0;

  constructor(closeWhen: ((received: string) => boolean) | undefined) {
    super();
    this.#closeWhen = closeWhen;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.written.push(chunk);
    done();
    if (this.#closeWhen?.(Buffer.concat(this.written).toString('utf8'))) setImmediate(() => this.destroy());
  }

  setTimeout(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }
}

/** Sends one request through the server's request listener; resolves once the response ended or its connection closed. */
export function inject(server: Server, request: InjectRequest): Promise<InjectReply> {
  const listener = server.listeners('request')[0] as ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  if (!listener) throw new Error('inject: the server has no request listener');
  const connection = new MemoryConnection(request.closeWhen);
  const req = new IncomingMessage(connection as never);
  const payload = encodeBody(request.body);
  req.method = request.method;
  req.url = request.url;
  req.httpVersion = '1.1';
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  const headers: Record<string, string> = { host: 'berth.test' };
  if (payload) {
    headers['content-length'] = String(payload.bytes.length);
    if (payload.json) headers['content-type'] = 'application/json';
  }
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  req.headers = headers;
  req.rawHeaders = Object.entries(headers).flat();
  // As Node's parser does: `complete` once the whole body arrived (a refusal before that drains the rest).
  req.once('end', () => (req.complete = true));
  if (payload) req.push(payload.bytes);
  req.push(null);

  const res = new ServerResponse(req);
  res.assignSocket(connection as never);
  return new Promise((resolve) => {
    let done = false;
    const settle = () => {
      if (done) return;
      done = true;
      resolve(parseReply(Buffer.concat(connection.written)));
    };
    res.once('finish', settle);
    res.once('close', settle);
    listener(req, res);
  });
}

function encodeBody(body: unknown): { bytes: Buffer; json: boolean } | undefined {
  if (body === undefined) return undefined;
  if (typeof body === 'string') return { bytes: Buffer.from(body), json: false };
  if (body instanceof Uint8Array) return { bytes: Buffer.from(body), json: false };
  return { bytes: Buffer.from(JSON.stringify(body)), json: true };
}

/** Status line, headers and body of an HTTP/1.1 response as written; a chunked body is put back together. */
function parseReply(raw: Buffer): InjectReply {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, text: '', body: '' };
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  const text = body.toString('utf8');
  const json = /^application\/json/.test(headers['content-type'] ?? '');
  return { status: Number(statusLine.split(' ')[1]), headers, text, body: json && text ? JSON.parse(text) : text };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** The events of a `text/event-stream` body, in order; `data` parsed as JSON. */
export function sseEvents(text: string): { event: string; id?: number; data: any }[] {
  const events: { event: string; id?: number; data: unknown }[] = [];
  for (const block of text.split('\n\n')) {
    let event = 'message';
    let id: number | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('id: ')) id = Number(line.slice(4));
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length) events.push({ event, ...(id !== undefined ? { id } : {}), data: JSON.parse(data.join('\n')) });
  }
  return events;
}

/** A folder as the CLI uploads it: berth.yaml, a package.json, and the fake behaviour of its instances. */
export function appArchive(manifest: string, behaviour: FakeBehaviour = {}): Buffer {
  return gzipSync(
    buildTar([
      { name: 'berth.yaml', data: manifest },
      { name: 'package.json', data: JSON.stringify({ name: 'app', scripts: { start: 'node server.js' } }) },
      { name: '.berth-fake.json', data: JSON.stringify(behaviour) },
    ]),
  );
}

export interface TestApi {
  kit: Kit;
  /** What the API was built with (createRouter(deps) gives its routes). */
  deps: ApiDeps;
  server: Server;
  /** A valid admin token. */
  token: string;
  /** What `POST /v1/system/shutdown` asked for, in order. */
  shutdowns: { stopApps: boolean }[];
  /** `inject` with the admin token (unless the request sets `authorization` itself). */
  call(method: string, url: string, options?: Omit<InjectRequest, 'method' | 'url'>): Promise<InjectReply>;
  /** Deploys `manifest` through the upload endpoint (throws unless 202) and waits until the app has no deployment running. */
  deploy(app: string, manifest: string, behaviour?: FakeBehaviour): Promise<InjectReply>;
  close(): Promise<void>;
}

/** The control API over the deploy kit, wired as the composition root wires it, but never listening. */
export async function startApi(): Promise<TestApi> {
  const kit = await startKit();
  const token = kit.ctx.store.tokens.create(newId('tok'), 'admin', Date.now());
  const shutdowns: { stopApps: boolean }[] = [];
  const deps: ApiDeps = {
    ctx: kit.ctx,
    deployer: kit.deployer,
    routing: kit.routing,
    config: {
      dataDir: kit.dir,
      baseDomain: kit.ctx.settings.baseDomain,
      http: kit.ctx.settings.http,
      api: { host: '127.0.0.1', port: 7070 },
      maxUploadBytes: 1024 * 1024,
      maxUnpackedBytes: 4 * 1024 * 1024,
      maxUploadEntries: 100,
    },
    version: '0.0.0-test',
    apiAddress: () => ({ host: '127.0.0.1', port: 7070 }),
    shutdown: (options) => void shutdowns.push(options),
  };
  const server = createApiServer(deps);
  const call: TestApi['call'] = (method, url, options = {}) =>
    inject(server, { ...options, method, url, headers: { authorization: `Bearer ${token}`, ...options.headers } });
  return {
    kit,
    deps,
    server,
    token,
    shutdowns,
    call,
    async deploy(app, manifest, behaviour) {
      const reply = await call('POST', `/v1/apps/${app}/deploys?wait=1`, { body: appArchive(manifest, behaviour), headers: { 'content-type': 'application/gzip' } });
      if (reply.status !== 202) throw new Error(`deploy of ${app} refused: ${reply.text}`);
      await kit.deployer.idle(app);
      return reply;
    },
    close: () => kit.close(),
  };
}

/** The transport against a scripted HTTP server on a Unix socket: what the real engine will not do on demand. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { createTransport, EngineError } from './engine-transport.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let dir = '';
let socketPath = '';
let server: Server;
let handler: Handler = (_req, res) => res.end();
const connections: unknown[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-engine-transport-'));
  socketPath = join(dir, 'engine.sock');
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    // Negotiation (unversioned GET /version) is answered as Engine 20.10 does; engine-version.test.ts covers others.
    if (req.url === '/version') return req.on('end', () => json(res, 200, { ApiVersion: '1.41', MinAPIVersion: '1.12' }));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString()));
  });
  server.on('connection', (socket) => connections.push(socket));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

test('calls send JSON to the versioned path and parse JSON answers; keep-alive reuses one connection', async () => {
  const seen: string[] = [];
  handler = (req, res, body) => {
    seen.push(`${req.method} ${req.url} ${req.headers['content-type'] ?? '-'} ${body}`);
    json(res, 201, { Id: 'abc' });
  };
  const transport = createTransport({ socketPath, timeoutMs: 2_000 });
  const before = connections.length;
  assert.deepEqual(await transport.call('POST', '/containers/create', { query: { name: 'x' }, body: { Image: 'i' } }), { status: 201, body: { Id: 'abc' } });
  assert.deepEqual((await transport.call('GET', '/containers/json')).body, { Id: 'abc' });
  assert.deepEqual(seen, ['POST /v1.41/containers/create?name=x application/json {"Image":"i"}', 'GET /v1.41/containers/json - ']);
  assert.equal(connections.length - before, 1, 'both calls went over one pooled connection');
});

test('answers of 300 and more are EngineErrors with the engine message, unless the caller accepts them', async () => {
  const transport = createTransport({ socketPath, timeoutMs: 2_000 });
  handler = (_req, res) => json(res, 409, { message: 'Conflict. The container name "/x" is already in use' });
  await assert.rejects(transport.call('POST', '/x'), (error) => error instanceof EngineError && error.status === 409 && /already in use/.test(error.message));
  handler = (_req, res) => {
    res.writeHead(502);
    res.end('bad gateway');
  };
  await assert.rejects(transport.call('GET', '/x'), (error) => error instanceof EngineError && error.status === 502 && error.message === 'bad gateway');
  handler = (_req, res) => json(res, 404, { message: 'No such container: x' });
  assert.equal((await transport.call('GET', '/x', { accept: [404] })).status, 404);
  handler = (_req, res) => {
    res.writeHead(304);
    res.end();
  };
  assert.deepEqual(await transport.call('POST', '/x/start', { accept: [304] }), { status: 304, body: undefined });
});

test('a call without an answer in time is an EngineError with status 0', async () => {
  handler = () => {}; // never answers
  const transport = createTransport({ socketPath, timeoutMs: 200 });
  const started = Date.now();
  await assert.rejects(transport.call('GET', '/slow'), (error) => error instanceof EngineError && error.status === 0 && /within 200 ms/.test(error.message));
  assert.ok(Date.now() - started < 2_000);
});

test('streams get their own connection, send a stream body, and end on abort', async () => {
  let received = '';
  handler = (req, res, body) => {
    received = `${req.headers['content-type']} ${body}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"stream":"one"}\n'); // and then nothing more until the client goes
  };
  const transport = createTransport({ socketPath, timeoutMs: 2_000 });
  await transport.apiVersion(); // over the pooled connection, not the stream's
  const controller = new AbortController();
  const before = connections.length;
  const res = await transport.open('POST', '/build', { body: Readable.from([Buffer.from('tar'), Buffer.from('-bytes')]), contentType: 'application/x-tar', signal: controller.signal });
  assert.equal(received, 'application/x-tar tar-bytes');
  assert.equal(connections.length - before, 1);
  const chunks: string[] = [];
  const reading = (async () => {
    for await (const chunk of res) {
      chunks.push(String(chunk));
      controller.abort(new Error('stop'));
    }
  })();
  await assert.rejects(reading);
  assert.deepEqual(chunks, ['{"stream":"one"}\n']);
});

test('a stream refused by the engine rejects with its message; an aborted signal rejects at once', async () => {
  handler = (_req, res) => json(res, 404, { message: 'No such container: nope' });
  const transport = createTransport({ socketPath, timeoutMs: 2_000 });
  await assert.rejects(transport.open('GET', '/containers/nope/logs'), (error) => error instanceof EngineError && error.status === 404 && /No such container/.test(error.message));
  const controller = new AbortController();
  controller.abort(new Error('already gone'));
  await assert.rejects(transport.open('GET', '/events', { signal: controller.signal }), /already gone/);
});

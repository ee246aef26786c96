import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { BerthError, isBerthError } from '../errors/catalogue.ts';
import { ApiClient, appPath, errorFromResponse, withQuery } from './client.ts';
import { sendEvents, sendJson, startFakeApi } from './cli.test-support.ts';

test('query strings leave out unset and false values and spell true as 1', () => {
  assert.equal(withQuery('/v1/apps/a/logs', { tail: 5, since: undefined, follow: true, reveal: false }), '/v1/apps/a/logs?tail=5&follow=1');
  assert.equal(withQuery('/x', {}), '/x');
  assert.equal(withQuery('/x?a=1', { b: 'c d' }), '/x?a=1&b=c+d');
  assert.equal(appPath('hello', '/env'), '/v1/apps/hello/env');
});

test('API error JSON comes back as the BerthError the server raised', () => {
  const body = JSON.stringify({ error: { code: 'MANIFEST_INVALID', message: 'berth.yaml is not valid', hint: 'fix it', details: { issues: [{ path: 'x', message: 'y' }] } } });
  const error = errorFromResponse(422, body, { method: 'POST', path: '/v1/apps/a/deploys', hadToken: true });
  assert.ok(error instanceof BerthError);
  assert.deepEqual(error.toJSON(), { code: 'MANIFEST_INVALID', message: 'berth.yaml is not valid', hint: 'fix it', details: { issues: [{ path: 'x', message: 'y' }] } });
});

test('answers that are not berth JSON still become catalogue errors', () => {
  const request = { method: 'GET', path: '/v1/apps?x=1', hadToken: false };
  assert.equal(errorFromResponse(401, 'nope', request).code, 'AUTH_REQUIRED');
  assert.equal(errorFromResponse(401, 'nope', { ...request, hadToken: true }).code, 'AUTH_INVALID');
  const notFound = errorFromResponse(404, '<html>', request);
  assert.equal(notFound.code, 'ROUTE_NOT_FOUND');
  assert.equal(notFound.message, 'no endpoint GET /v1/apps');
  assert.equal(errorFromResponse(413, '', request).code, 'BODY_TOO_LARGE');
  const bad = errorFromResponse(502, 'Bad Gateway', request);
  assert.equal(bad.code, 'INTERNAL');
  assert.match(bad.message, /HTTP 502 from GET \/v1\/apps\?x=1: Bad Gateway/);
});

test('requests carry the bearer token and a JSON body; answers are parsed', async () => {
  const api = await startFakeApi({ 'POST /v1/apps': (_req, res) => sendJson(res, 201, { name: 'hello' }) });
  try {
    const client = new ApiClient({ url: `${api.url}/`, token: 's3cret' });
    assert.deepEqual(await client.request('POST', '/v1/apps', { body: { name: 'hello' } }), { name: 'hello' });
    const [req] = api.requests;
    assert.equal(req.headers.authorization, 'Bearer s3cret');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(req.body.toString()), { name: 'hello' });
    await assert.rejects(client.get('/v1/nope'), (error) => isBerthError(error) && error.code === 'ROUTE_NOT_FOUND');
  } finally {
    await api.close();
  }
});

test('a server that is not there is DAEMON_UNREACHABLE, naming the URL', async () => {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  const client = new ApiClient({ url: `http://127.0.0.1:${port}` });
  await assert.rejects(client.get('/v1/info'), (error) => {
    assert.ok(isBerthError(error));
    assert.equal(error.code, 'DAEMON_UNREACHABLE');
    assert.equal(error.message, `cannot reach the berth server at http://127.0.0.1:${port}: connection refused (no server is listening there)`);
    assert.match(error.hint ?? '', /berth server/);
    return true;
  });
});

test('a server that accepts but never answers times out as unreachable', async () => {
  const api = await startFakeApi({ 'GET /v1/info': () => undefined });
  try {
    await assert.rejects(new ApiClient({ url: api.url }).get('/v1/info', { timeoutMs: 100 }), (error) => isBerthError(error) && error.code === 'DAEMON_UNREACHABLE' && /no answer in time/.test(error.message));
  } finally {
    await api.close();
  }
});

test('uploads stream the body with progress, and the server gets every byte', async () => {
  const api = await startFakeApi({ 'POST /v1/apps/hello/deploys': (_req, res) => sendJson(res, 202, { deployment: { id: 'dep_1' } }) });
  try {
    const chunks = Array.from({ length: 20 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const progress: number[] = [];
    const answer = await new ApiClient({ url: api.url, token: 't' }).upload<{ deployment: { id: string } }>('/v1/apps/hello/deploys', Readable.from(chunks), {
      query: { wait: true },
      onProgress: (bytes) => progress.push(bytes),
    });
    assert.deepEqual(answer, { deployment: { id: 'dep_1' } });
    const [req] = api.requests;
    assert.equal(req.query.get('wait'), '1');
    assert.equal(req.headers['content-type'], 'application/gzip');
    assert.ok(req.body.equals(Buffer.concat(chunks)));
    assert.equal(progress.at(-1), 20 * 64 * 1024);
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b));
  } finally {
    await api.close();
  }
});

test('an upload whose body fails reports the body\'s error, not an unreachable server', async () => {
  const api = await startFakeApi({ 'POST /v1/apps/hello/deploys': (_req, res) => sendJson(res, 202, {}) });
  try {
    const body = (async function* () {
      yield Buffer.from('x');
      throw new Error('server.js shrank while it was being packed; deploy again');
    })();
    await assert.rejects(new ApiClient({ url: api.url }).upload('/v1/apps/hello/deploys', body), /shrank while it was being packed/);
  } finally {
    await api.close();
  }
});

test('event streams: messages as they arrive, errors as BerthError, and abort closes the stream', async () => {
  const api = await startFakeApi({
    'GET /v1/deployments/dep_1/events': (_req, res) => sendEvents(res, [{ seq: 1, type: 'deploy.queued' }], { end: false }),
    'GET /v1/deployments/dep_2/events': (_req, res) => sendJson(res, 404, { error: { code: 'DEPLOYMENT_NOT_FOUND', message: 'no deployment "dep_2"' } }),
  });
  try {
    const client = new ApiClient({ url: api.url });
    const controller = new AbortController();
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const message of client.events('/v1/deployments/dep_1/events', { signal: controller.signal })) {
          seen.push(`${message.id} ${message.event}`);
          controller.abort(new DOMException('stop', 'AbortError'));
        }
      })(),
      { name: 'AbortError' },
    );
    assert.deepEqual(seen, ['1 deploy.queued']);
    assert.equal(api.requests[0].headers.accept, 'text/event-stream');
    await assert.rejects(
      (async () => {
        for await (const _ of client.events('/v1/deployments/dep_2/events')) assert.fail('no messages expected');
      })(),
      (error) => isBerthError(error) && error.code === 'DEPLOYMENT_NOT_FOUND',
    );
  } finally {
    await api.close();
  }
});

// node --test examples/jobs/e2e-local.test.js
// The whole app run by hand, without berth or Docker: redis-server, api, worker and web on random
// ports, wired together with REDIS_URL / API_URL / PORT as berth would. Submits real jobs through web's
// /api/jobs and waits for them to complete. Skips, saying so, when redis-server is not installed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findRedisServer, startRedis, freePort, waitFor, sleep, SKIP_NO_REDIS } from './lib/testkit.js';
import { RedisClient } from './lib/redis.js';
import { sumOfPrimesBelow } from './lib/jobs.js';

const here = dirname(fileURLToPath(import.meta.url));
const redisBin = findRedisServer();
if (!redisBin) console.log(`# ${SKIP_NO_REDIS}`);

const children = new Set();
// Whatever happens to the test run, no process it started outlives it.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts `node <script>` with env; returns the child, with .log() (its output so far) and .exited. */
function startNode(name, script, env) {
  const child = spawn(process.execPath, [join(here, script)], {
    cwd: here,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  child.log = () => `--- ${name} (pid ${child.pid}) ---\n${output}`;
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  children.add(child);
  child.exited.then(() => children.delete(child));
  return child;
}

async function stopChild(child, signal = 'SIGTERM', timeoutMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exited;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = await child.exited;
  clearTimeout(timer);
  return exit;
}

async function json(url, options) {
  const res = await fetch(url, { ...options, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body };
}

describe('jobs run by hand: redis-server + api + worker + web', { skip: redisBin ? false : SKIP_NO_REDIS, timeout: 90_000 }, () => {
  let redis;
  let store; // a client of our own, to look inside Redis
  let dir;
  let api;
  let worker;
  let web;
  let webUrl;
  let heartbeatFile;
  const logs = () => [api, worker, web].filter(Boolean).map((c) => c.log()).join('\n');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobs-e2e-'));
    redis = await startRedis({ bin: redisBin });
    store = new RedisClient(redis.url);
    const [apiPort, webPort] = [await freePort(), await freePort()];
    heartbeatFile = join(dir, 'worker-heartbeat');
    api = startNode('api', 'api.js', { PORT: String(apiPort), REDIS_URL: redis.url });
    worker = startNode('worker', 'worker.js', { REDIS_URL: redis.url, HEARTBEAT_FILE: heartbeatFile });
    web = startNode('web', 'web.js', { PORT: String(webPort), API_URL: `http://127.0.0.1:${apiPort}` });
    webUrl = `http://127.0.0.1:${webPort}`;
    await waitFor(async () => (await json(`${webUrl}/health`)).status === 200, { timeoutMs: 15_000, what: `web /health -> 200\n${logs()}` });
  });

  after(async () => {
    store?.disconnect();
    await Promise.all([...children].map((child) => stopChild(child, 'SIGKILL')));
    await redis?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function submit(n) {
    const res = await json(`${webUrl}/api/jobs`, { method: 'POST', body: JSON.stringify({ n }), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 202, `POST /api/jobs: ${JSON.stringify(res.body)}\n${logs()}`);
    return res.body;
  }

  async function waitDone(id, timeoutMs = 15_000) {
    return waitFor(
      async () => {
        const { status, body } = await json(`${webUrl}/api/jobs/${id}`);
        assert.equal(status, 200);
        return body.status === 'completed' || body.status === 'failed' ? body : null;
      },
      { timeoutMs, intervalMs: 100, what: `job ${id} to finish\n${logs()}` },
    );
  }

  test('web serves the page and its script, never cached stale', async () => {
    const page = await fetch(`${webUrl}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.match(await page.text(), /<form id="submit">/);
    const again = await fetch(`${webUrl}/`, { headers: { 'if-none-match': page.headers.get('etag') } });
    assert.equal(again.status, 304);
    const script = await fetch(`${webUrl}/app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type'), /javascript/);
    assert.match(await script.text(), /\/api\/jobs/);
  });

  test('web /health is 200 while the api answers', async () => {
    const { status, body } = await json(`${webUrl}/health`);
    assert.equal(status, 200);
    assert.deepEqual(body, { status: 'ok', api: 200 });
  });

  test('a job submitted through web is queued, run by the worker and completed', async () => {
    const accepted = await submit(1000);
    assert.match(accepted.id, /^[0-9a-f-]{36}$/);
    assert.equal(accepted.status, 'queued');
    const job = await waitDone(accepted.id);
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.n, 1000);
    assert.equal(job.result, 76127); // the sum of the primes below 1000
    assert.equal(job.worker, hostname());
    for (const field of ['createdAt', 'startedAt', 'completedAt']) assert.ok(!Number.isNaN(Date.parse(job[field])), `${field}: ${job[field]}`);
    // Stored where the brief says: hash job:<id>, with a TTL; the queue is drained.
    const hash = await store.hgetall(`job:${accepted.id}`);
    assert.equal(hash.status, 'completed');
    assert.ok((await store.call('TTL', `job:${accepted.id}`)) > 0);
    assert.equal(await store.call('LLEN', 'jobs'), 0);
  });

  test('many jobs at once all complete with the right results', async () => {
    const ns = [1, 2, 3, 10, 100, 999, 5000, 10_000, ...Array.from({ length: 22 }, (_, i) => 17 * (i + 1))];
    const accepted = await Promise.all(ns.map((n) => submit(n)));
    const done = await Promise.all(accepted.map((a) => waitDone(a.id)));
    done.forEach((job, i) => {
      assert.equal(job.status, 'completed');
      assert.equal(job.result, sumOfPrimesBelow(ns[i]), `n=${ns[i]}`);
    });
    assert.equal(done[7].result, 5736396);
  });

  test('bad input is a 400 naming the field; unknown jobs and routes are 404, passed through web', async () => {
    for (const [body, field] of [
      ['{"n":0}', 'n'],
      ['{"n":10001}', 'n'],
      ['{"n":1.5}', 'n'],
      ['{"n":"12"}', 'n'],
      ['{}', 'n'],
      ['[1]', 'body'],
      ['not json', 'body'],
    ]) {
      const res = await json(`${webUrl}/api/jobs`, { method: 'POST', body });
      assert.equal(res.status, 400, body);
      assert.equal(res.body.field, field, body);
      assert.match(res.body.error, new RegExp(field === 'n' ? '\\bn\\b' : 'body|JSON'), body);
    }
    const missing = await json(`${webUrl}/api/jobs/00000000-0000-4000-8000-000000000000`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /no job/);
    assert.equal((await json(`${webUrl}/api/nope?x=1`)).status, 404);
    const wrongMethod = await json(`${webUrl}/api/jobs`, { method: 'GET' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
  });

  test('a job the worker cannot do ends as failed, with the message', async () => {
    const id = '11111111-2222-4333-8444-555555555555';
    await store.hset(`job:${id}`, { id, status: 'queued', n: 'lots', createdAt: new Date().toISOString() });
    await store.lpush('jobs', id);
    const job = await waitDone(id);
    assert.equal(job.status, 'failed');
    assert.match(job.error, /n must be an integer/);
    assert.equal(job.worker, hostname());
  });

  test('the worker touches its heartbeat file every 2 s while idle', async () => {
    assert.ok(existsSync(heartbeatFile), 'heartbeat file exists');
    const first = statSync(heartbeatFile).mtimeMs;
    assert.ok(Date.now() - first < 3000, 'the heartbeat is fresh');
    await waitFor(() => statSync(heartbeatFile).mtimeMs > first, { timeoutMs: 4000, what: 'a newer heartbeat' });
  });

  test('SIGTERM: an idle worker exits 0 promptly; a busy one finishes its job first, then exits 0', async () => {
    const startedAt = Date.now();
    assert.deepEqual(await stopChild(worker), { code: 0, signal: null }, worker.log());
    assert.ok(Date.now() - startedAt < 3000, `idle worker took ${Date.now() - startedAt} ms to stop`);

    const slow = startNode('slow worker', 'worker.js', { REDIS_URL: redis.url, HEARTBEAT_FILE: heartbeatFile, WORK_DELAY_MS: '1500' });
    worker = slow;
    const { id } = await submit(500);
    await waitFor(async () => (await json(`${webUrl}/api/jobs/${id}`)).body.status === 'running', { timeoutMs: 10_000, what: `job ${id} running\n${slow.log()}` });
    assert.deepEqual(await stopChild(slow), { code: 0, signal: null }, slow.log());
    const job = (await json(`${webUrl}/api/jobs/${id}`)).body;
    assert.equal(job.status, 'completed', `the job in hand was finished before exit: ${JSON.stringify(job)}\n${slow.log()}`);
    assert.equal(job.result, sumOfPrimesBelow(500));

    // Jobs submitted while no worker runs wait in the queue for the next one.
    const queued = await submit(20);
    await sleep(200);
    assert.equal((await json(`${webUrl}/api/jobs/${queued.id}`)).body.status, 'queued');
    worker = startNode('worker 3', 'worker.js', { REDIS_URL: redis.url, HEARTBEAT_FILE: heartbeatFile });
    assert.equal((await waitDone(queued.id)).result, 77);
  });

  test('Redis restarting: api /health goes 503 then recovers, and jobs work again', async () => {
    await redis.stop();
    await waitFor(async () => (await json(`${webUrl}/health`)).status === 503, { timeoutMs: 5000, what: 'web /health -> 503 with Redis down' });
    const down = await json(`${webUrl}/api/jobs`, { method: 'POST', body: '{"n":5}' });
    assert.equal(down.status, 503);
    await redis.start();
    await waitFor(async () => (await json(`${webUrl}/health`)).status === 200, { timeoutMs: 10_000, what: `web /health -> 200 after Redis came back\n${logs()}` });
    const { id } = await submit(30);
    assert.equal((await waitDone(id)).result, sumOfPrimesBelow(30));
  });

  test('with the api down, web answers 502 JSON for /api/* and 503 for /health', async () => {
    assert.deepEqual(await stopChild(api), { code: 0, signal: null }, api.log());
    const res = await json(`${webUrl}/api/jobs`, { method: 'POST', body: '{"n":5}' });
    assert.equal(res.status, 502);
    assert.match(res.headers.get('content-type'), /application\/json/);
    assert.equal(res.body.error, 'the API is unavailable');
    const health = await json(`${webUrl}/health`);
    assert.equal(health.status, 503);
    assert.equal(health.body.status, 'unavailable');
    // web itself keeps serving the page.
    assert.equal((await fetch(`${webUrl}/`)).status, 200);
  });
});

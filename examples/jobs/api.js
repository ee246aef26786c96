// The API: accepts jobs and reports on them. Not routed by berth; `web` forwards /api/* here.
//   POST /jobs        {"n": 1..10000}  -> 202 {id, status: "queued"}
//   GET  /jobs/:id                     -> 200 the job, 404 when unknown
//   GET  /health                       -> 200 when Redis answers PING, else 503
// Env: PORT (default 4000), REDIS_URL (default redis://localhost:6379), JOB_TTL_SECONDS (default 86400).
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createClient, ReplyError } from './lib/redis.js';
import { QUEUE, JOB_TTL_SECONDS, jobKey, isJobId, validateJobInput, jobFromHash } from './lib/jobs.js';

const port = Number(process.env.PORT || 4000);
const MAX_BODY = 16 * 1024;

// Fail fast while Redis is away: a request waits at most 2 s for the reconnect, then gets a 503.
const redis = createClient(undefined, { commandTimeout: 2000 });
redis.on('reconnecting', ({ attempt, delay, error }) => {
  if (attempt === 1 || attempt % 10 === 0) console.error(`api: redis unavailable (${error?.message ?? 'connection lost'}), retrying in ${delay} ms (attempt ${attempt})`);
});
redis.on('ready', () => console.log(`api: connected to redis at ${redis.options.host}:${redis.options.port}`));

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error(`the body is larger than ${MAX_BODY} bytes`), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// Redis being down is the server's problem (503), not the client's.
function redisFailure(res, error) {
  console.error(`api: redis error: ${error.message}`);
  send(res, 503, { error: `the job store is unavailable: ${error instanceof ReplyError ? error.message : 'cannot reach Redis'}` });
}

async function createJob(req, res) {
  let text;
  try {
    text = await readBody(req);
  } catch (error) {
    return send(res, error.status ?? 400, { error: error.message, field: 'body' });
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return send(res, 400, { error: 'the body must be JSON such as {"n": 1000}', field: 'body' });
  }
  const input = validateJobInput(body);
  if (input.error) return send(res, 400, input);

  const job = { id: randomUUID(), status: 'queued', n: input.n, createdAt: new Date().toISOString() };
  try {
    // Pipelined on one connection, so the hash exists before a worker can pop the id.
    await Promise.all([
      redis.hset(jobKey(job.id), job),
      redis.expire(jobKey(job.id), JOB_TTL_SECONDS),
      redis.lpush(QUEUE, job.id),
    ]);
  } catch (error) {
    return redisFailure(res, error);
  }
  res.setHeader('location', `/jobs/${job.id}`);
  send(res, 202, { id: job.id, status: job.status });
}

async function getJob(res, id) {
  if (!isJobId(id)) return send(res, 404, { error: `no job ${id}`, id });
  let hash;
  try {
    hash = await redis.hgetall(jobKey(id));
  } catch (error) {
    return redisFailure(res, error);
  }
  if (Object.keys(hash).length === 0) return send(res, 404, { error: `no job ${id}`, id });
  send(res, 200, jobFromHash(hash));
}

async function health(res) {
  try {
    const pong = await redis.send(['PING'], { timeout: 1000 });
    send(res, 200, { status: 'ok', redis: pong });
  } catch (error) {
    send(res, 503, { status: 'unavailable', error: error.message });
  }
}

const server = createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://api');
  const route = pathname.replace(/\/+$/, '') || '/';
  const handle = () => {
    if (route === '/health') return req.method === 'GET' || req.method === 'HEAD' ? health(res) : notAllowed(res, 'GET');
    if (route === '/jobs') return req.method === 'POST' ? createJob(req, res) : notAllowed(res, 'POST');
    const match = /^\/jobs\/([^/]+)$/.exec(route);
    if (match) return req.method === 'GET' ? getJob(res, safeDecode(match[1])) : notAllowed(res, 'GET');
    send(res, 404, { error: `no route ${req.method} ${pathname}` });
  };
  Promise.resolve()
    .then(handle)
    .catch((error) => {
      console.error('api: unexpected error', error);
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    });
});

function safeDecode(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function notAllowed(res, allow) {
  res.setHeader('allow', allow);
  send(res, 405, { error: `method not allowed; use ${allow}` });
}

server.keepAliveTimeout = 65_000; // longer than web's idle upstream sockets, so web never reuses a closing one
server.listen(port, () => console.log(`api listening on ${port}`));

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`api: ${signal}, finishing requests in flight`);
  server.close(async () => {
    await redis.quit().catch(() => {});
    process.exit(0);
  });
  server.closeIdleConnections?.();
  setTimeout(() => process.exit(0), 8000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

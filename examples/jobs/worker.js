// The worker: takes job ids off the Redis list `jobs` (BRPOP) and computes them.
// No port. Liveness is a heartbeat file touched every 2 s, also while idle; berth restarts the worker
// when the file gets older than `max_age`. On SIGTERM it finishes the job in hand, then exits 0.
// Env: REDIS_URL (default redis://localhost:6379), HEARTBEAT_FILE (default /tmp/worker-heartbeat),
//      WORK_DELAY_MS (default 0: an artificial pause per job, to watch jobs run or test shutdown).
import { hostname } from 'node:os';
import { writeFileSync } from 'node:fs';
import { createClient } from './lib/redis.js';
import { QUEUE, jobKey, sumOfPrimesBelow, N_MIN, N_MAX } from './lib/jobs.js';

const HEARTBEAT_FILE = process.env.HEARTBEAT_FILE || '/tmp/worker-heartbeat';
const HEARTBEAT_MS = 2000;
const POLL_SECONDS = 1; // BRPOP timeout: how often the loop wakes up when idle, and how soon SIGTERM is noticed
const STALL_MS = 30_000; // no heartbeat when the loop has not come round for this long: it is stuck
const WORK_DELAY_MS = Math.max(0, Number(process.env.WORK_DELAY_MS) || 0);
const WORKER = hostname();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// BRPOP blocks its connection, so the worker has a client of its own (the api has another).
const redis = createClient();
redis.on('reconnecting', ({ attempt, delay, error }) => {
  if (attempt === 1 || attempt % 10 === 0) console.error(`worker: redis unavailable (${error?.message ?? 'connection lost'}), retrying in ${delay} ms (attempt ${attempt})`);
});
redis.on('ready', () => console.log(`worker ${WORKER}: connected to redis at ${redis.options.host}:${redis.options.port}`));

let stopping = false;
let lastLoop = Date.now();
let heartbeatError = null;

function heartbeat() {
  if (Date.now() - lastLoop > STALL_MS) {
    console.error(`worker: the job loop has not run for ${Math.round((Date.now() - lastLoop) / 1000)} s; not touching ${HEARTBEAT_FILE}`);
    return;
  }
  try {
    writeFileSync(HEARTBEAT_FILE, `${new Date().toISOString()} ${WORKER} pid ${process.pid}\n`);
    heartbeatError = null;
  } catch (error) {
    if (heartbeatError !== error.code) console.error(`worker: cannot write the heartbeat file ${HEARTBEAT_FILE}: ${error.message}`);
    heartbeatError = error.code;
  }
}

/** Retries a Redis call while Redis is away (a few times, ~5 s of pauses) so a popped job is not lost to a blip. */
async function retry(fn) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= 5) throw error;
      await sleep(500 * attempt);
    }
  }
}

const update = (id, fields) => retry(() => redis.hset(jobKey(id), fields));

async function runJob(id) {
  const job = await retry(() => redis.hgetall(jobKey(id)));
  if (!job.id) {
    console.error(`worker: job ${id} is not in Redis (expired?); skipping it`);
    return;
  }
  const started = Date.now();
  await update(id, { status: 'running', startedAt: new Date(started).toISOString(), worker: WORKER });
  let outcome;
  try {
    const n = Number(job.n);
    if (!Number.isInteger(n) || n < N_MIN || n > N_MAX) throw new RangeError(`n must be an integer from ${N_MIN} to ${N_MAX}, found ${JSON.stringify(job.n)}`);
    if (WORK_DELAY_MS) await sleep(WORK_DELAY_MS);
    const result = sumOfPrimesBelow(n);
    outcome = { status: 'completed', result, completedAt: new Date().toISOString(), worker: WORKER };
  } catch (error) {
    outcome = { status: 'failed', error: error.message, completedAt: new Date().toISOString(), worker: WORKER };
  }
  await update(id, outcome);
  const detail = outcome.status === 'completed' ? `result ${outcome.result}` : outcome.error;
  console.log(`worker: job ${id} ${outcome.status} in ${Date.now() - started} ms (n=${job.n}): ${detail}`);
}

async function main() {
  heartbeat();
  const timer = setInterval(heartbeat, HEARTBEAT_MS);
  console.log(`worker ${WORKER}: waiting for jobs on list "${QUEUE}"; heartbeat ${HEARTBEAT_FILE} every ${HEARTBEAT_MS / 1000} s`);
  let failures = 0;
  while (!stopping) {
    lastLoop = Date.now();
    let popped;
    try {
      popped = await redis.brpop(QUEUE, POLL_SECONDS);
      failures = 0;
    } catch (error) {
      failures += 1;
      if (failures === 1 || failures % 10 === 0) console.error(`worker: waiting for a job failed: ${error.message}`);
      if (!stopping) await sleep(Math.min(5000, 250 * failures));
      continue;
    }
    if (!popped) continue;
    // A job popped after SIGTERM arrived is still done: it has left the queue and would be lost otherwise.
    const [, id] = popped;
    lastLoop = Date.now();
    try {
      await runJob(id);
    } catch (error) {
      console.error(`worker: job ${id} could not be recorded: ${error.message}`);
    }
  }
  clearInterval(timer);
  await redis.quit().catch(() => {});
  console.log('worker: stopped');
  process.exit(0);
}

function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`worker: ${signal}, finishing the job in hand, then exiting`);
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

main().catch((error) => {
  console.error('worker: fatal', error);
  process.exit(1);
});

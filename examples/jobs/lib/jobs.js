// What the api and the worker agree on: Redis key names, the job's shape, and the work itself.

export const QUEUE = 'jobs';
export const jobKey = (id) => `job:${id}`;
export const N_MIN = 1;
export const N_MAX = 10_000;
/** Jobs expire from Redis a day after they were created (JOB_TTL_SECONDS overrides). */
export const JOB_TTL_SECONDS = Number(process.env.JOB_TTL_SECONDS) > 0 ? Number(process.env.JOB_TTL_SECONDS) : 86_400;

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isJobId = (id) => ID.test(id);

/** Validates a POST /jobs body; returns { n } or { error, field }. */
export function validateJobInput(body) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { error: 'the body must be a JSON object such as {"n": 1000}', field: 'body' };
  }
  if (!('n' in body)) return { error: `n is required: an integer from ${N_MIN} to ${N_MAX}`, field: 'n' };
  const { n } = body;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < N_MIN || n > N_MAX) {
    return { error: `n must be an integer from ${N_MIN} to ${N_MAX}, found ${JSON.stringify(n) ?? String(n)}`, field: 'n' };
  }
  return { n };
}

/** The job as stored (a Redis hash, all strings) turned back into JSON types. */
export function jobFromHash(hash) {
  const job = { ...hash };
  if (job.n !== undefined) job.n = Number(job.n);
  if (job.result !== undefined) {
    try {
      job.result = JSON.parse(job.result);
    } catch {
      // Leave it as the string that was stored.
    }
  }
  return job;
}

/** The work: the sum of the primes below n (a sieve of Eratosthenes). n = 1000 gives 76127. */
export function sumOfPrimesBelow(n) {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, found ${n}`);
  if (n < 3) return 0;
  const composite = new Uint8Array(n);
  let sum = 0;
  for (let i = 2; i < n; i++) {
    if (composite[i]) continue;
    sum += i;
    for (let j = i * i; j < n; j += i) composite[j] = 1;
  }
  return sum;
}

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { errorStatus } from '../../src/api/error-status.ts';
import { checkBody, checkQuery } from '../../src/api/check-input.ts';
import type { BodyField, Operation, QueryField } from '../../src/api/input-spec.ts';
import { operations } from '../../src/api/operations.ts';
import { catalogue } from '../../src/errors/catalogue.ts';
import { appCopy, TestBerth } from '../support/berth.ts';

/**
 * Thousands of mutated requests to every endpoint of a real daemon holding an app with a release:
 * wrong types, prototype keys, huge numbers, deep nesting, unknown fields, unicode and control
 * characters in bodies; mutated query strings, path params, content types and lengths. No answer may
 * be a 5xx, every 4xx is a catalogue error, and the daemon ends alive with no "request failed" logged.
 * Replay a failure with BERTH_FUZZ_SEED=<the printed seed>.
 */
const SEED = Number(process.env.BERTH_FUZZ_SEED ?? randomInt(2 ** 31));
const REQUESTS = 4000;
const TIME_LIMIT_MS = 30_000;
const CONCURRENCY = 6;
/** Endpoints that end the daemon are never sent. */
const NEVER_SENT = new Set<keyof typeof operations>(['shutdown']);
/** Requests that could pass every check of an endpoint that starts work, per endpoint: the rest are made invalid. */
const STARTS_WORK: Partial<Record<keyof typeof operations, number>> = { createApp: 10, destroyApp: 5, scale: 2, rollback: 2, patchEnv: 4, run: 2, deploy: 0 };

const APP = 'fuzzed';
let berth: TestBerth;
let deploymentId = '';
const requestFailures: string[] = [];
before(async () => {
  berth = new TestBerth();
  await berth.startDaemon(['--max-upload', '64kb']);
  // Every line, not the tail TestBerth keeps: a failure early in the run must not scroll away.
  let partial = '';
  berth.daemon!.stderr!.on('data', (data: Buffer) => {
    const lines = (partial + data.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.includes('"request failed"')) requestFailures.push(line);
  });
  deploymentId = (await berth.deploy(APP, appCopy('versioned', { 'berth.yaml': `name: ${APP}\nhealth:\n  path: /health\n  interval: 200ms\ndeploy:\n  drain_timeout: 1s\n` }))).id;
  assert.equal((await berth.api('POST', '/v1/apps', { name: 'bare' })).status, 201);
});
after(async () => {
  await berth?.close();
});

/** mulberry32: small, fast, and the same sequence for the same seed. */
class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const STRINGS = ['', ' ', 'a', 'v1', 'web', 'worker', 'x'.repeat(70_000), 'A'.repeat(300), '\u0000', 'a\u0000b', '\u001b[31m', '\u007f', 'line\nbreak', 'é', '日本語', '👍🏽', '\u202e', '\ud800', '\ufeff', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '../../etc/passwd', '%00', '${PATH}', 'null', 'true', '-1', '1e400', 'echo fuzz'];
const protoObject = () => JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"toString":1}') as unknown;
const VALUES: (() => unknown)[] = [
  () => null,
  () => true,
  () => false,
  () => 0,
  () => -1,
  () => 1.5,
  () => 1e308,
  () => -1e308,
  () => Number.MAX_SAFE_INTEGER + 2,
  () => 2 ** 31,
  () => [],
  () => [1, 'a', null],
  () => ({}),
  protoObject,
  () => ({ a: { b: { c: [1, { d: 'e' }] } } }),
];
const QUERY_VALUES = ['-5', '0', '1', '2', '1e3', '', 'abc', '99999999999999999999999', '1.5', 'true', 'yes', '%00', '\u0000', 'é', '10m', '2026-01-01T00:00:00Z', 'x'.repeat(3000), '__proto__'];
const RAW_BODIES = ['', 'null', '[]', '"s"', '1', '{', '{"a":', '\ufeff{}', '{}garbage', '{"a":1,"a":2}', '{"__proto__":{"polluted":true}}'];
const CONTENT_TYPES = ['application/json', 'text/plain', '', 'application/gzip', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded'];
const APP_PARAMS = ['', 'A', 'ghost', 'a'.repeat(41), 'x'.repeat(5000), 'é', '__proto__', 'toString', 'constructor', '-a', 'a_b'];
const RAW_PARAMS = ['%', '%E0%A4%A', '%00', '%2F', '%2e%2e', '..', '.'];

/** Sets an own property, `__proto__` included (plain assignment would change the prototype). */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function randomValue(rng: Rng): unknown {
  return rng.chance(0.4) ? rng.pick(STRINGS) : rng.pick(VALUES)();
}

function exampleOf(field: BodyField): unknown {
  return structuredClone(field.example);
}

function misspell(rng: Rng, word: string): string {
  if (word.length < 2) return `${word}x`;
  const i = rng.int(word.length - 1);
  return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
}

/** A body that passes the spec, then 0 to 3 mutations of its fields. */
function mutatedBody(rng: Rng, spec: Readonly<Record<string, BodyField>>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(spec)) if (field.required || rng.chance(0.5)) put(body, name, exampleOf(field));
  const names = Object.keys(spec);
  for (let n = rng.int(4); n > 0; n--) {
    const name = names.length ? rng.pick(names) : 'field';
    const field = spec[name];
    switch (rng.int(5)) {
      case 0:
        put(body, name, randomValue(rng));
        break;
      case 1:
        put(body, rng.chance(0.5) ? misspell(rng, name) : rng.pick(STRINGS), randomValue(rng));
        break;
      case 2:
        delete body[name];
        break;
      case 3:
        if (field?.type === 'map') {
          const map: Record<string, unknown> = {};
          for (let k = 1 + rng.int(3); k > 0; k--) put(map, rng.pick([...STRINGS, ...Object.keys(field.example)]), rng.chance(0.5) ? field.values.example : randomValue(rng));
          put(body, name, map);
        } else put(body, name, [randomValue(rng), randomValue(rng)]);
        break;
      default:
        if (field?.type === 'list') put(body, name, [field.items.example, randomValue(rng)]);
        else put(body, name, rng.pick(STRINGS));
    }
  }
  return body;
}

/** Text-level damage JSON.stringify cannot produce: truncation, bad UTF-8, deep nesting, huge numbers. */
function mutatedText(rng: Rng, text: string): Buffer {
  switch (rng.int(8)) {
    case 0:
      return Buffer.from(text.slice(0, rng.int(text.length + 1)));
    case 1: {
      const bytes = Buffer.from(text);
      const at = rng.int(bytes.length + 1);
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([rng.pick([0xff, 0xc3, 0x00, 0x80, 0xed])]), bytes.subarray(at)]);
    }
    case 2:
      return Buffer.from(rng.pick(RAW_BODIES));
    case 3: {
      const depth = 1000 + rng.int(100_000);
      return Buffer.from(rng.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
    }
    case 4:
      return Buffer.from(text.replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/i, rng.pick(['1e400', '-1e400', '123456789012345678901234567890', '-0', '0.0000000000000000000001'])));
    case 5:
      return Buffer.from(text.replace(/"[^"]*"(?=\s*[,}\]])/, JSON.stringify(rng.pick(STRINGS))));
    case 6:
      return rng.chance(0.1) ? Buffer.alloc(1024 * 1024 + 10, 0x20) : Buffer.from(`${text}${' '.repeat(rng.int(1000))}`);
    default:
      return randomBytes(rng.int(200));
  }
}

function mutatedQuery(rng: Rng, spec: Readonly<Record<string, QueryField>> | undefined): URLSearchParams {
  const params = new URLSearchParams();
  const fields = Object.entries(spec ?? {});
  for (const [name, field] of fields) {
    if (!rng.chance(0.5)) continue;
    params.append(name, field.type === 'flag' ? rng.pick(['1', '0']) : String(field.example));
  }
  for (let n = rng.chance(0.6) ? 1 + rng.int(3) : 0; n > 0; n--) {
    const known = fields.length ? rng.pick(fields)[0] : 'limit';
    switch (rng.int(4)) {
      case 0:
        params.set(known, rng.pick(QUERY_VALUES));
        break;
      case 1:
        params.append(known, rng.pick(QUERY_VALUES));
        break;
      case 2:
        params.append(rng.chance(0.5) ? misspell(rng, known) : rng.pick(STRINGS).slice(0, 100), rng.pick(QUERY_VALUES));
        break;
      default:
        params.delete(known);
    }
  }
  return params;
}

/** A path segment; a lone surrogate (which encodeURIComponent refuses) goes as its raw bytes. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

function pathFor(rng: Rng, name: keyof typeof operations, operation: Operation): string {
  return operation.path
    .split('/')
    .map((part) => {
      if (part === ':domain') return encode(rng.chance(0.5) ? rng.pick(['shop.example.com', '*.example.com', 'SHOP.example.com.', 'fuzzed.localhost']) : rng.pick(STRINGS).slice(0, 300));
      if (part === ':id') return rng.chance(0.7) ? deploymentId : rng.chance(0.5) ? rng.pick(RAW_PARAMS) : encode(rng.pick(STRINGS).slice(0, 200));
      if (part !== ':app') return part;
      if (rng.chance(0.1)) return rng.pick(RAW_PARAMS);
      // Destroying the apps the fuzzer works on would leave it nothing deep to reach.
      const live = name === 'destroyApp' ? [] : [APP, APP, 'bare'];
      return encode(rng.chance(0.7) && live.length ? rng.pick(live) : rng.pick([...APP_PARAMS, `fz-${rng.int(10)}`]));
    })
    .join('/');
}

interface Planned {
  index: number;
  name: keyof typeof operations;
  method: string;
  path: string;
  contentType: string;
  body: Buffer | undefined;
  framing: 'fetch' | 'short-length' | 'chunked' | 'length-and-chunked';
}

/** The operation a method and path reach, as the API's router matches them (each segment of `:name` is one path segment). */
function reached(method: string, path: string): keyof typeof operations | undefined {
  const parts = new URL(path, 'http://x').pathname.split('/').filter(Boolean);
  for (const name of Object.keys(operations) as (keyof typeof operations)[]) {
    const operation: Operation = operations[name];
    const pattern = operation.path.split('/').filter(Boolean);
    if (operation.method === method && pattern.length === parts.length && pattern.every((p, i) => p.startsWith(':') || p === parts[i])) return name;
  }
  return undefined;
}

/** Could this pass every input check? Then it may start real work, which is budgeted. */
function mayStartWork(operation: Operation, planned: Planned): boolean {
  try {
    checkQuery(operation.query, new URL(planned.path, 'http://x').searchParams);
    if (operation.archive) return false; // random bytes are never a valid archive
    const text = planned.body?.length ? new TextDecoder('utf-8', { fatal: true }).decode(planned.body) : '{}';
    checkBody(operation.body ?? {}, JSON.parse(text));
    return true;
  } catch {
    return false;
  }
}

function plan(rng: Rng, index: number, budget: Map<string, number>): Planned {
  const names = (Object.keys(operations) as (keyof typeof operations)[]).filter((name) => !NEVER_SENT.has(name));
  const name = rng.pick(names);
  const operation: Operation = operations[name];
  const query = mutatedQuery(rng, operation.query);
  let path = pathFor(rng, name, operation) + (query.size ? `?${query}` : '');
  let method: string = operation.method;
  if (rng.chance(0.05)) method = rng.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
  // Another method on the same path is another endpoint: `DELETE /v1/apps/fuzzed` would destroy the app the
  // fuzzer works on (a seed once did, and the rest of the run lost its deep paths). Such a request goes to
  // an app nobody relies on instead.
  if (method !== operation.method && reached(method, path) === 'destroyApp') path = path.replace(/^\/v1\/apps\/[^/?]+/, '/v1/apps/fz-gone');
  let body: Buffer | undefined;
  if (operation.archive) body = rng.chance(0.5) ? gzipSync(randomBytes(rng.int(2000))) : randomBytes(rng.int(100_000));
  else if (operation.body || method !== 'GET' || rng.chance(0.1)) {
    const text = JSON.stringify(mutatedBody(rng, operation.body ?? {}));
    body = rng.chance(0.3) ? mutatedText(rng, text) : Buffer.from(text);
  }
  const contentType = rng.chance(0.2) ? rng.pick(CONTENT_TYPES) : operation.archive ? 'application/gzip' : 'application/json';
  const framing = body && method !== 'GET' && rng.chance(0.1) ? rng.pick(['short-length', 'chunked', 'length-and-chunked'] as const) : 'fetch';
  const planned: Planned = { index, name, method: method === 'GET' && framing === 'fetch' ? 'GET' : method, path, contentType, body: method === 'GET' && framing === 'fetch' ? undefined : body, framing };
  // What the server will see as the body of a short Content-Length is a prefix.
  const seen = framing === 'short-length' && planned.body ? { ...planned, body: planned.body.subarray(0, Math.max(0, planned.body.length - 1)) } : planned;
  if (name in STARTS_WORK && method === operation.method && mayStartWork(operation, seen)) {
    const left = budget.get(name) ?? STARTS_WORK[name]!;
    if (left > 0) budget.set(name, left - 1);
    else {
      // Over budget: an unknown field makes it invalid, so thousands of requests never start thousands of deploys.
      planned.body = Buffer.from(JSON.stringify({ fuzzOverBudget: true }));
      planned.framing = 'fetch';
    }
  }
  if (new URL(planned.path, 'http://x').pathname === operations.shutdown.path) throw new Error(`request ${index} would stop the daemon: ${planned.path}`);
  return planned;
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

async function sendWithFetch(planned: Planned): Promise<Answer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('no answer within 15 s')), 15_000);
  try {
    const headers: Record<string, string> = { authorization: `Bearer ${berth.token}` };
    if (planned.contentType) headers['content-type'] = planned.contentType;
    const res = await fetch(berth.apiUrl + planned.path, { method: planned.method, headers, body: planned.body, signal: controller.signal });
    const contentType = res.headers.get('content-type') ?? '';
    // Streams (events, logs, run) stay open: their status is the answer.
    if (contentType.startsWith('text/event-stream')) {
      controller.abort();
      return { status: res.status, contentType, text: '' };
    }
    return { status: res.status, contentType, text: await res.text() };
  } finally {
    clearTimeout(timer);
  }
}

/** Raw bytes for what fetch will not send: a Content-Length shorter than the body, chunked framing, or both. */
function sendRaw(planned: Planned): Promise<Answer> {
  const body = planned.body ?? Buffer.alloc(0);
  let framing = '';
  let payload = body;
  if (planned.framing === 'short-length') framing = `content-length: ${Math.max(0, body.length - 1)}\r\n`;
  else {
    payload = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
    framing = `transfer-encoding: chunked\r\n${planned.framing === 'length-and-chunked' ? `content-length: ${body.length}\r\n` : ''}`;
  }
  const port = Number(new URL(berth.apiUrl).port);
  const head = `${planned.method} ${planned.path} HTTP/1.1\r\nhost: berth\r\nauthorization: Bearer ${berth.token}\r\ncontent-type: ${planned.contentType}\r\nconnection: close\r\n${framing}\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), 15_000);
    socket.on('data', (data: Buffer) => chunks.push(data));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!status) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      const [head, ...rest] = text.split('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(head);
      const contentType = /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? '';
      const bodyText = rest.join('\r\n\r\n');
      resolve({ status: Number(status[1]), contentType, text: length ? Buffer.from(bodyText).subarray(0, Number(length[1])).toString() : bodyText });
    });
    socket.write(Buffer.concat([Buffer.from(head), payload]));
  });
}

/** What is wrong with an answer, or undefined. */
function problemWith(answer: Answer): string | undefined {
  if (answer.status >= 500) return `status ${answer.status}: ${answer.text.slice(0, 300)}`;
  if (answer.status < 400) return undefined;
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(answer.text) as { error?: typeof error }).error;
  } catch {
    return `a ${answer.status} that is not JSON: ${JSON.stringify(answer.text.slice(0, 200))}`;
  }
  if (typeof error?.code !== 'string' || !Object.hasOwn(catalogue, error.code)) return `a ${answer.status} without a catalogue code: ${answer.text.slice(0, 300)}`;
  if (typeof error.message !== 'string' || !error.message) return `a ${answer.status} without a message: ${answer.text.slice(0, 300)}`;
  if (errorStatus[error.code as keyof typeof errorStatus] !== answer.status) return `${error.code} answered with ${answer.status}`;
  if (/object Object/.test(answer.text)) return `[object Object] in ${answer.text.slice(0, 300)}`;
  return undefined;
}

const describePlanned = (p: Planned) => `#${p.index} ${p.method} ${p.path.slice(0, 200)} (${p.framing}, ${p.contentType || 'no type'}) body ${JSON.stringify(p.body?.toString('utf8').slice(0, 200) ?? null)}`;

test('fuzzing every endpoint: no 5xx, every 4xx a catalogue error, the daemon alive and quiet', { timeout: 120_000 }, async (t) => {
  t.diagnostic(`seed ${SEED} (replay with BERTH_FUZZ_SEED=${SEED})`);
  console.log(`api-fuzz seed ${SEED}`);
  const sent = (Object.keys(operations) as (keyof typeof operations)[]).filter((name) => !NEVER_SENT.has(name));
  assert.deepEqual([...NEVER_SENT], ['shutdown'], 'only the endpoint that stops the daemon is left out');
  assert.equal(sent.length, Object.keys(operations).length - 1);

  const rng = new Rng(SEED);
  const budget = new Map<string, number>();
  const plans = Array.from({ length: REQUESTS }, (_, i) => plan(rng, i, budget));
  const problems: string[] = [];
  const byOperation = new Map<string, number>();
  const started = Date.now();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < plans.length && Date.now() - started < TIME_LIMIT_MS && problems.length < 20) {
      const planned = plans[next++];
      try {
        const answer = planned.framing === 'fetch' ? await sendWithFetch(planned) : await sendRaw(planned);
        const problem = problemWith(answer);
        if (problem) problems.push(`${describePlanned(planned)}: ${problem}`);
      } catch (error) {
        problems.push(`${describePlanned(planned)}: ${(error as Error).message}`);
      }
      byOperation.set(planned.name, (byOperation.get(planned.name) ?? 0) + 1);
      done++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  t.diagnostic(`${done} requests in ${Date.now() - started} ms: ${JSON.stringify(Object.fromEntries(byOperation))}`);

  assert.deepEqual(problems, [], `seed ${SEED}`);
  assert.ok(done >= 1000, `at least 1000 requests were sent (${done})`);
  assert.equal(byOperation.size, sent.length, 'every endpoint was reached');
  assert.equal(berth.daemon!.exitCode, null, 'the daemon is alive');
  assert.equal((await berth.api('GET', '/v1/info')).status, 200, 'and answering');
  assert.ok((await berth.api('GET', `/v1/apps/${APP}`)).body.release, 'the app still has its release');
  assert.deepEqual(requestFailures, [], `no request failed in the daemon (seed ${SEED})`);
});

// node --test examples/jobs/lib/redis.test.js
// The parser and URL tests run anywhere; the client tests start a real redis-server on a random port
// (they skip, saying so, when redis-server is not installed).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import {
  RedisClient,
  RespParser,
  ReplyError,
  ConnectionError,
  parseRedisUrl,
  encodeCommand,
  createClient,
} from './redis.js';
import { findRedisServer, startRedis, freePort, sleep, waitFor, SKIP_NO_REDIS } from './testkit.js';

const redisBin = findRedisServer();
if (!redisBin) console.log(`# ${SKIP_NO_REDIS}`);
const skip = redisBin ? false : SKIP_NO_REDIS;

describe('parseRedisUrl', () => {
  test('host, port and database', () => {
    assert.deepEqual(parseRedisUrl('redis://redis:6379'), { host: 'redis', port: 6379, db: 0, username: undefined, password: undefined });
    assert.deepEqual(parseRedisUrl('redis://10.0.0.5:7000/3'), { host: '10.0.0.5', port: 7000, db: 3, username: undefined, password: undefined });
    assert.equal(parseRedisUrl('redis://cache').port, 6379);
    assert.equal(parseRedisUrl('redis://[::1]:6380').host, '::1');
    assert.equal(parseRedisUrl('redis://h:1/').db, 0);
  });

  test('password, with or without a user name, percent-decoded', () => {
    assert.deepEqual(parseRedisUrl('redis://:s3cr%40t@redis:6379/1'), { host: 'redis', port: 6379, db: 1, username: undefined, password: 's3cr@t' });
    const acl = parseRedisUrl('redis://app:pw@redis');
    assert.equal(acl.username, 'app');
    assert.equal(acl.password, 'pw');
  });

  test('rejects what it cannot use, saying why', () => {
    assert.throws(() => parseRedisUrl('not a url'), /not a URL/);
    assert.throws(() => parseRedisUrl('http://redis:6379'), /must start with redis:\/\//);
    assert.throws(() => parseRedisUrl('rediss://redis:6379'), /TLS/);
    assert.throws(() => parseRedisUrl('redis://redis:6379/abc'), /database number/);
  });
});

describe('RESP', () => {
  test('encodes commands as arrays of bulk strings, counting bytes not characters', () => {
    assert.equal(encodeCommand(['SET', 'k', 'héllo']).toString(), '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\nhéllo\r\n');
    assert.equal(encodeCommand(['EXPIRE', 'k', 10]).toString(), '*3\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$2\r\n10\r\n');
    assert.equal(encodeCommand(['SET', Buffer.from('k'), 'v']).toString(), '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n');
    assert.throws(() => encodeCommand(['GET', undefined]), /null or undefined/);
  });

  const stream = Buffer.from(
    '+OK\r\n' +
      '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n' +
      ':42\r\n' +
      ':-7\r\n' +
      '$5\r\nhello\r\n' +
      '$0\r\n\r\n' +
      '$-1\r\n' +
      '*-1\r\n' +
      '*0\r\n' +
      '$8\r\nl\u00e9\u20ac\r\n\r\n' + // 2+3 bytes of utf-8 and an embedded CRLF inside a bulk string
      '*3\r\n$4\r\njobs\r\n*2\r\n:1\r\n$-1\r\n-ERR inner\r\n',
  );
  const check = (replies) => {
    assert.equal(replies.length, 11);
    assert.equal(replies[0], 'OK');
    assert.ok(replies[1] instanceof ReplyError);
    assert.equal(replies[1].code, 'WRONGTYPE');
    assert.equal(replies[2], 42);
    assert.equal(replies[3], -7);
    assert.equal(replies[4], 'hello');
    assert.equal(replies[5], '');
    assert.equal(replies[6], null);
    assert.equal(replies[7], null);
    assert.deepEqual(replies[8], []);
    assert.equal(replies[9], 'lé€\r\n');
    assert.equal(replies[10][0], 'jobs');
    assert.deepEqual(replies[10][1], [1, null]);
    assert.ok(replies[10][2] instanceof ReplyError);
  };

  test('parses every reply type from one chunk', () => {
    check(new RespParser().push(stream));
  });

  test('parses replies split anywhere, down to one byte at a time', () => {
    const parser = new RespParser();
    const replies = [];
    for (let i = 0; i < stream.length; i++) replies.push(...parser.push(stream.subarray(i, i + 1)));
    check(replies);
    for (const size of [2, 3, 7, 13]) {
      const p = new RespParser();
      const out = [];
      for (let i = 0; i < stream.length; i += size) out.push(...p.push(stream.subarray(i, i + size)));
      check(out);
    }
  });

  test('an unknown reply type is a protocol error', () => {
    assert.throws(() => new RespParser().push(Buffer.from('?what\r\n')), /protocol error/);
  });
});

describe('RedisClient against redis-server', { skip }, () => {
  let server;
  let client;

  before(async () => {
    server = await startRedis({ bin: redisBin });
    client = new RedisClient({ url: server.url, retryDelay: 50, maxRetryDelay: 200 });
  });
  after(async () => {
    client?.disconnect();
    await server?.destroy();
  });

  test('PING connects on first use', async () => {
    assert.equal(await client.ping(), 'PONG');
    assert.equal(client.state, 'ready');
  });

  test('HSET / HGETALL / EXPIRE / DEL', async () => {
    assert.equal(await client.hset('job:1', { id: '1', status: 'queued', n: 10, meta: { a: 1 }, skip: undefined }), 4);
    assert.deepEqual(await client.hgetall('job:1'), { id: '1', status: 'queued', n: '10', meta: '{"a":1}' });
    assert.equal(await client.expire('job:1', 100), 1);
    const ttl = await client.call('TTL', 'job:1');
    assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`);
    assert.deepEqual(await client.hgetall('job:missing'), {});
    assert.equal(await client.del('job:1'), 1);
  });

  test('LPUSH / BRPOP in FIFO order, and BRPOP returns null on timeout', async () => {
    assert.equal(await client.lpush('q', 'a', 'b'), 2);
    assert.equal(await client.lpush('q', 'c'), 3);
    assert.deepEqual(await client.brpop('q', 1), ['q', 'a']);
    assert.deepEqual(await client.brpop(['other', 'q'], 1), ['q', 'b']);
    assert.deepEqual(await client.brpop('q', 1), ['q', 'c']);
    const started = Date.now();
    assert.equal(await client.brpop('q', 1), null);
    assert.ok(Date.now() - started >= 900, 'BRPOP waited for its timeout');
  });

  test('BRPOP on one client wakes up when another client pushes', async () => {
    const worker = new RedisClient(server.url);
    try {
      const popped = worker.brpop('wake', 5);
      await sleep(100);
      await client.lpush('wake', 'job-1');
      assert.deepEqual(await popped, ['wake', 'job-1']);
    } finally {
      worker.disconnect();
    }
  });

  test('an error reply rejects that command only; the connection stays usable', async () => {
    await client.call('SET', 'str', 'x');
    const [bad, good] = await Promise.allSettled([client.lpush('str', 'y'), client.call('GET', 'str')]);
    assert.equal(bad.status, 'rejected');
    assert.ok(bad.reason instanceof ReplyError);
    assert.equal(bad.reason.code, 'WRONGTYPE');
    assert.equal(good.value, 'x');
    await assert.rejects(client.call('NOSUCHCOMMAND'), (e) => e instanceof ReplyError && /unknown command/i.test(e.message));
    assert.equal(await client.ping(), 'PONG');
  });

  test('pipelines concurrent commands and matches every reply to its command', async () => {
    const n = 2000;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => client.call('ECHO', `value-${i}`)));
    results.forEach((r, i) => assert.equal(r, `value-${i}`));
    const incrs = await Promise.all(Array.from({ length: 500 }, () => client.call('INCR', 'counter')));
    assert.deepEqual(incrs, Array.from({ length: 500 }, (_, i) => i + 1));
  });

  test('large and non-ASCII values round-trip', async () => {
    const big = 'x€'.repeat(300_000); // ~1.2 MB, arrives in many chunks
    await client.call('SET', 'big', big);
    assert.equal(await client.call('GET', 'big'), big);
    await client.hset('uni', { name: 'Zoë 🚀', empty: '' });
    assert.deepEqual(await client.hgetall('uni'), { name: 'Zoë 🚀', empty: '' });
  });

  test('selects the database from the URL', async () => {
    const db2 = new RedisClient(`${server.url}/2`);
    try {
      await db2.call('SET', 'where', 'db2');
      assert.equal(await db2.call('GET', 'where'), 'db2');
      assert.equal(await client.call('GET', 'where'), null);
    } finally {
      db2.disconnect();
    }
  });

  test('createClient reads REDIS_URL', async () => {
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = server.url;
    const c = createClient();
    try {
      assert.equal(c.options.port, server.port);
      assert.equal(await c.ping(), 'PONG');
    } finally {
      c.disconnect();
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
    }
  });

  test('reconnects with back-off after Redis restarts; commands during the outage fail, later ones succeed', async () => {
    const events = [];
    client.on('reconnecting', ({ attempt, delay }) => events.push({ attempt, delay }));
    assert.equal(await client.ping(), 'PONG');

    // A command blocked in flight when Redis dies is rejected, not left hanging.
    const blocked = new RedisClient({ url: server.url, retryDelay: 50, maxRetryDelay: 200 });
    await blocked.ping();
    const inFlight = blocked.brpop('never', 0);
    await sleep(50);

    const inFlightFailed = assert.rejects(inFlight, (e) => e instanceof ConnectionError && /lost/.test(e.message));
    await server.stop();
    await inFlightFailed;
    await waitFor(() => client.state !== 'ready', { timeoutMs: 2000, what: 'the client to notice the lost connection' });
    // While Redis is down, a command waits for the connection up to its timeout, then fails.
    await assert.rejects(client.send(['PING'], { timeout: 300 }), (e) => e instanceof ConnectionError && /no reply within 300 ms/.test(e.message));
    await sleep(400);
    assert.ok(events.length >= 2, `reconnect attempts: ${JSON.stringify(events)}`);
    assert.ok(events.every((e) => e.delay <= 200), 'delays are capped at maxRetryDelay');
    assert.ok(events[1].delay > events[0].delay, 'delays grow');

    // A command issued during the outage succeeds if Redis comes back within its timeout.
    const duringOutage = client.send(['PING'], { timeout: 5000 });
    await server.start();
    assert.equal(await duringOutage, 'PONG');
    assert.equal(client.state, 'ready');
    assert.equal(client.attempt, 0);
    assert.equal(await blocked.ping(), 'PONG');
    blocked.disconnect();
    client.removeAllListeners('reconnecting');
  });

  test('quit() sends the queued commands first, then closes for good', async () => {
    const c = new RedisClient(server.url);
    const set = c.call('SET', 'before-quit', '1');
    await c.quit();
    assert.equal(await set, 'OK');
    assert.equal(c.state, 'closed');
    await assert.rejects(c.ping(), /closed/);
    assert.equal(await client.call('GET', 'before-quit'), '1');
  });

  test('disconnect() rejects pending commands', async () => {
    const c = new RedisClient(server.url);
    await c.ping();
    const pending = c.brpop('nothing', 0);
    c.disconnect();
    await assert.rejects(pending, /closed/);
  });
});

describe('RedisClient with a password', { skip }, () => {
  let server;
  before(async () => {
    server = await startRedis({ bin: redisBin, args: ['--requirepass', 'p@ss word'] });
  });
  after(async () => server?.destroy());

  test('authenticates with the password from the URL', async () => {
    const c = new RedisClient(`redis://:${encodeURIComponent('p@ss word')}@127.0.0.1:${server.port}/1`);
    try {
      assert.equal(await c.ping(), 'PONG');
      await c.call('SET', 'k', 'v');
      assert.equal(await c.call('GET', 'k'), 'v');
    } finally {
      c.disconnect();
    }
  });

  test('a wrong password fails the waiting commands with the reason', async () => {
    const c = new RedisClient({ url: `redis://:wrong@127.0.0.1:${server.port}`, retryDelay: 1000 });
    try {
      await assert.rejects(c.ping(), (e) => e instanceof ConnectionError && /AUTH failed/.test(e.message) && /WRONGPASS|invalid/i.test(e.message));
    } finally {
      c.disconnect();
    }
  });

  test('no password: commands are refused with NOAUTH', async () => {
    const c = new RedisClient(`redis://127.0.0.1:${server.port}`);
    try {
      await assert.rejects(c.ping(), (e) => e instanceof ReplyError && e.code === 'NOAUTH');
    } finally {
      c.disconnect();
    }
  });
});

describe('RedisClient without a server', () => {
  test('a command fails after its timeout when nothing listens, naming the connection error', async () => {
    const port = await freePort();
    const c = new RedisClient({ host: '127.0.0.1', port, commandTimeout: 400, retryDelay: 50 });
    try {
      await assert.rejects(c.ping(), (e) => e instanceof ConnectionError && /ECONNREFUSED/.test(e.message));
    } finally {
      c.disconnect();
    }
  });

  test('a server that accepts but never answers: the command times out and the socket is dropped', async () => {
    const sockets = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise((r) => silent.listen(0, '127.0.0.1', r));
    const c = new RedisClient({ host: '127.0.0.1', port: silent.address().port, commandTimeout: 300, retryDelay: 5000 });
    try {
      await assert.rejects(c.ping(), /no reply within 300 ms/);
      await sleep(50);
      assert.equal(c.state, 'reconnecting');
    } finally {
      c.disconnect();
      sockets.forEach((s) => s.destroy());
      silent.close();
    }
  });
});

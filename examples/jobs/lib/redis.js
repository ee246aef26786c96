// A minimal Redis client (RESP2 over node:net), no dependencies.
//
// - Commands are written as soon as they are called, so concurrent calls are pipelined; replies are
//   matched to commands in order (Redis answers in order on one connection).
// - Replies: simple strings, errors (rejected as ReplyError), integers, bulk strings (utf-8 strings,
//   null for nil), arrays (null for a nil array), nested arrays.
// - The connection is opened on the first command. When it drops (Redis restarted, network blip) the
//   commands in flight are rejected, and the client reconnects with exponential back-off, forever,
//   until quit()/disconnect(). Commands issued while reconnecting wait for the connection, but no
//   longer than `commandTimeout` ms.
// - A blocking command (BRPOP) blocks the whole connection: give a worker its own client.
//
// REDIS_URL: redis://[[user]:password@]host[:port][/db]   (defaults: localhost, 6379, db 0)

import { connect } from 'node:net';
import { EventEmitter } from 'node:events';

/** An error reply from Redis (`-ERR ...`, `-WRONGTYPE ...`). The connection stays usable. */
export class ReplyError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ReplyError';
    this.code = message.split(' ', 1)[0];
  }
}

/** The connection is not usable: lost, timed out, or closed by quit(). */
export class ConnectionError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

/** Parses `redis://[[user]:password@]host[:port][/db]` into connection options. */
export function parseRedisUrl(input) {
  let url;
  try {
    url = new URL(input);
  } catch {
    throw new TypeError(`REDIS_URL is not a URL: ${JSON.stringify(input)} (expected redis://host:port[/db])`);
  }
  if (url.protocol === 'rediss:') throw new TypeError('REDIS_URL: rediss:// (TLS) is not supported by this client');
  if (url.protocol !== 'redis:') throw new TypeError(`REDIS_URL must start with redis://, found ${url.protocol}//`);
  const host = (url.hostname || 'localhost').replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : 6379;
  const path = url.pathname.replace(/^\/+|\/+$/g, '');
  let db = 0;
  if (path !== '') {
    if (!/^\d+$/.test(path)) throw new TypeError(`REDIS_URL: the path must be a database number, found /${path}`);
    db = Number(path);
  }
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  return { host, port, db, username, password };
}

const CRLF = '\r\n';

/** Encodes one command as a RESP array of bulk strings. */
export function encodeCommand(args) {
  let out = `*${args.length}${CRLF}`;
  const chunks = [];
  for (const arg of args) {
    if (Buffer.isBuffer(arg)) {
      chunks.push(Buffer.from(`${out}$${arg.length}${CRLF}`), arg);
      out = CRLF;
      continue;
    }
    if (arg === null || arg === undefined) throw new TypeError('redis: command arguments cannot be null or undefined');
    const s = typeof arg === 'string' ? arg : String(arg);
    out += `$${Buffer.byteLength(s)}${CRLF}${s}${CRLF}`;
  }
  if (chunks.length === 0) return Buffer.from(out);
  if (out !== '') chunks.push(Buffer.from(out));
  return Buffer.concat(chunks);
}

const INCOMPLETE = Symbol('incomplete');

/**
 * An incremental RESP2 parser: push() any chunk, get back every complete reply in it. A reply split over
 * several chunks is returned once the last piece has arrived. Error replies come back as ReplyError values.
 */
export class RespParser {
  #buf = Buffer.alloc(0);

  push(chunk) {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const replies = [];
    let offset = 0;
    for (;;) {
      const parsed = this.#parse(offset);
      if (parsed === INCOMPLETE) break;
      replies.push(parsed.value);
      offset = parsed.end;
      if (offset === this.#buf.length) break;
    }
    this.#buf = offset === this.#buf.length ? Buffer.alloc(0) : this.#buf.subarray(offset);
    return replies;
  }

  reset() {
    this.#buf = Buffer.alloc(0);
  }

  #line(offset) {
    const end = this.#buf.indexOf(CRLF, offset);
    if (end === -1) return INCOMPLETE;
    return { text: this.#buf.toString('utf8', offset, end), end: end + 2 };
  }

  #parse(offset) {
    if (offset >= this.#buf.length) return INCOMPLETE;
    const type = String.fromCharCode(this.#buf[offset]);
    const line = this.#line(offset + 1);
    if (line === INCOMPLETE) return INCOMPLETE;
    switch (type) {
      case '+':
        return { value: line.text, end: line.end };
      case '-':
        return { value: new ReplyError(line.text), end: line.end };
      case ':':
        return { value: Number(line.text), end: line.end };
      case '$': {
        const len = Number(line.text);
        if (len < 0) return { value: null, end: line.end };
        if (this.#buf.length < line.end + len + 2) return INCOMPLETE;
        return { value: this.#buf.toString('utf8', line.end, line.end + len), end: line.end + len + 2 };
      }
      case '*': {
        const count = Number(line.text);
        if (count < 0) return { value: null, end: line.end };
        const items = [];
        let end = line.end;
        for (let i = 0; i < count; i++) {
          const item = this.#parse(end);
          if (item === INCOMPLETE) return INCOMPLETE;
          items.push(item.value);
          end = item.end;
        }
        return { value: items, end };
      }
      default:
        throw new Error(`redis: protocol error, unexpected reply type ${JSON.stringify(type)}`);
    }
  }
}

/** Turns a flat [field, value, field, value, ...] array (HGETALL in RESP2) into an object. */
export function pairsToObject(arr) {
  const out = {};
  for (let i = 0; i + 1 < (arr?.length ?? 0); i += 2) out[arr[i]] = arr[i + 1];
  return out;
}

const BLOCKING = new Set(['BRPOP', 'BLPOP', 'BLMOVE', 'BRPOPLPUSH', 'BZPOPMIN', 'BZPOPMAX']);

/**
 * Events: 'connect' (socket open), 'ready' (authenticated and database selected), 'reconnecting'
 * ({ attempt, delay, error }), 'error' (only emitted when someone listens), 'end' (after quit/disconnect).
 */
export class RedisClient extends EventEmitter {
  /**
   * @param {string | object} [options] a redis:// URL, or { url, host, port, db, username, password,
   *   connectTimeout = 5000, commandTimeout = 5000, retryDelay = 100, maxRetryDelay = 3000 }
   */
  constructor(options = {}) {
    super();
    const opts = typeof options === 'string' ? { url: options } : { ...options };
    const fromUrl = opts.url ? parseRedisUrl(opts.url) : {};
    this.options = {
      host: 'localhost',
      port: 6379,
      db: 0,
      connectTimeout: 5000,
      commandTimeout: 5000,
      retryDelay: 100,
      maxRetryDelay: 3000,
      ...fromUrl,
      ...Object.fromEntries(Object.entries(opts).filter(([k, v]) => k !== 'url' && v !== undefined)),
    };
    this.state = 'idle'; // idle | connecting | ready | reconnecting | closed
    this.attempt = 0;
    this.lastError = null;
    this.#parser = new RespParser();
  }

  #socket = null;
  #parser;
  #inFlight = []; // { resolve, reject, timer, settled } in the order the commands were written
  #waiting = []; // commands issued while not connected: { args, entry }
  #retryTimer = null;
  #quitting = false;

  /** Sends a command (`call('HSET', key, field, value)`) and resolves with its reply. */
  call(command, ...args) {
    return this.send([command, ...args]);
  }

  /**
   * @param {Array<string|number|Buffer>} args the command and its arguments
   * @param {{ timeout?: number }} [opts] reply timeout in ms; a blocking command's default is its own
   *   block timeout plus commandTimeout, 0 means no timeout
   */
  send(args, opts = {}) {
    if (this.state === 'closed' || this.#quitting) return Promise.reject(new ConnectionError('redis: the client was closed'));
    let payload;
    try {
      payload = encodeCommand(args);
    } catch (error) {
      return Promise.reject(error);
    }
    const name = String(args[0]).toUpperCase();
    let timeout = opts.timeout ?? this.options.commandTimeout;
    if (opts.timeout === undefined && BLOCKING.has(name)) {
      const block = Number(args[args.length - 1]);
      timeout = block > 0 ? block * 1000 + this.options.commandTimeout : 0;
    }
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, timer: null, settled: false, name };
      if (timeout > 0) {
        entry.timer = setTimeout(() => {
          const last = this.state === 'ready' || !this.lastError ? '' : ` (not connected: ${this.lastError.message})`;
          this.#settle(entry, new ConnectionError(`redis: ${name} got no reply within ${timeout} ms${last}`));
          // A command that was written but never answered means the connection is stuck: drop it so the
          // replies that do come cannot be matched to the wrong commands.
          if (this.#inFlight.includes(entry)) this.#socket?.destroy(new ConnectionError(`redis: ${name} timed out`));
          this.#waiting = this.#waiting.filter((w) => w.entry !== entry);
        }, timeout);
        entry.timer.unref?.();
      }
      if (this.state === 'ready') this.#write(payload, entry);
      else {
        this.#waiting.push({ payload, entry });
        if (this.state === 'idle') this.#connect();
        else this.#retryTimer?.ref?.(); // a command is waiting: keep the process alive for the reconnect
      }
    });
  }

  /** Opens the connection now instead of on the first command; resolves once it is ready. */
  connect() {
    if (this.state === 'ready') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(new ConnectionError('redis: the client was closed'));
    return this.send(['PING']).then(() => undefined);
  }

  ping() {
    return this.send(['PING']);
  }

  /** HSET key with the fields of an object; resolves with the number of new fields. */
  hset(key, fields) {
    const args = ['HSET', key];
    for (const [field, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      args.push(field, typeof value === 'object' && value !== null ? JSON.stringify(value) : value);
    }
    return this.send(args);
  }

  /** HGETALL as an object; {} when the key does not exist. */
  async hgetall(key) {
    return pairsToObject(await this.send(['HGETALL', key]));
  }

  lpush(key, ...values) {
    return this.send(['LPUSH', key, ...values]);
  }

  /** BRPOP: resolves with [key, value], or null when nothing arrived within timeoutSeconds (0 = forever). */
  brpop(keys, timeoutSeconds) {
    return this.send(['BRPOP', ...(Array.isArray(keys) ? keys : [keys]), timeoutSeconds]);
  }

  expire(key, seconds) {
    return this.send(['EXPIRE', key, seconds]);
  }

  del(...keys) {
    return this.send(['DEL', ...keys]);
  }

  /** Sends QUIT after the commands already issued, then closes for good. */
  async quit() {
    if (this.state === 'closed' || this.#quitting) return;
    if (this.state === 'idle') return this.disconnect();
    const reply = this.send(['QUIT']).catch(() => 'OK');
    this.#quitting = true;
    await reply;
    this.disconnect();
  }

  /** Closes the connection at once, rejecting every command still pending, and stops reconnecting. */
  disconnect() {
    if (this.state === 'closed') return;
    const socket = this.#socket;
    this.#socket = null;
    this.#finish();
    socket?.destroy();
  }

  #finish() {
    this.state = 'closed';
    clearTimeout(this.#retryTimer);
    this.#failAll(new ConnectionError('redis: the client was closed'));
    this.emit('end');
  }

  #write(payload, entry) {
    this.#inFlight.push(entry);
    this.#socket.write(payload);
  }

  #settle(entry, value) {
    if (entry.settled) return;
    entry.settled = true;
    clearTimeout(entry.timer);
    if (value instanceof Error) entry.reject(value);
    else entry.resolve(value);
  }

  #failAll(error) {
    for (const entry of this.#inFlight) this.#settle(entry, error);
    this.#inFlight = [];
    for (const { entry } of this.#waiting) this.#settle(entry, error);
    this.#waiting = [];
  }

  #emitError(error) {
    this.lastError = error;
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #connect() {
    const { host, port, connectTimeout } = this.options;
    this.state = this.attempt === 0 ? 'connecting' : 'reconnecting';
    this.#parser.reset();
    const socket = connect({ host, port });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.setTimeout(connectTimeout, () => socket.destroy(new ConnectionError(`redis: connecting to ${host}:${port} timed out`)));

    socket.on('connect', () => {
      socket.setTimeout(0);
      this.emit('connect');
      this.#handshake(socket);
    });
    socket.on('data', (chunk) => {
      let replies;
      try {
        replies = this.#parser.push(chunk);
      } catch (error) {
        socket.destroy(error);
        return;
      }
      for (const reply of replies) {
        const entry = this.#inFlight.shift();
        if (entry) this.#settle(entry, reply);
      }
    });
    socket.on('error', (error) => this.#emitError(error));
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      const lost = new ConnectionError(`redis: connection to ${host}:${port} lost${this.lastError ? ` (${this.lastError.message})` : ''}`);
      for (const entry of this.#inFlight) this.#settle(entry, lost);
      this.#inFlight = [];
      if (this.state === 'closed') return;
      if (this.#quitting) return this.#finish();
      this.#scheduleReconnect();
    });
  }

  // AUTH and SELECT go first, ahead of the commands that waited for the connection.
  #handshake(socket) {
    const { username, password, db } = this.options;
    const steps = [];
    if (password !== undefined) steps.push(username ? ['AUTH', username, password] : ['AUTH', password]);
    if (db) steps.push(['SELECT', db]);
    let remaining = steps.length;
    const ready = () => {
      this.state = 'ready';
      this.attempt = 0;
      this.lastError = null;
      this.emit('ready');
      const waiting = this.#waiting;
      this.#waiting = [];
      for (const { payload, entry } of waiting) if (!entry.settled) this.#write(payload, entry);
    };
    if (remaining === 0) return ready();
    for (const args of steps) {
      const entry = { name: args[0], settled: false, timer: null };
      entry.resolve = () => {
        if (--remaining === 0 && this.#socket === socket) ready();
      };
      entry.reject = (error) => {
        // A lost connection is handled by the 'close' handler (reconnect); only a refusal lands here.
        if (!(error instanceof ReplyError)) return;
        const failure = new ConnectionError(`redis: ${args[0]} failed: ${error.message}`, { cause: error });
        this.#emitError(failure);
        // Wrong password or database: retrying will not help the commands waiting now.
        for (const { entry: w } of this.#waiting) this.#settle(w, failure);
        this.#waiting = [];
        socket.destroy();
      };
      this.#write(encodeCommand(args), entry);
    }
  }

  #scheduleReconnect() {
    this.attempt += 1;
    const { retryDelay, maxRetryDelay } = this.options;
    const delay = Math.min(maxRetryDelay, retryDelay * 2 ** Math.min(this.attempt - 1, 20));
    this.state = 'reconnecting';
    this.emit('reconnecting', { attempt: this.attempt, delay, error: this.lastError });
    this.#retryTimer = setTimeout(() => {
      if (this.state !== 'closed') this.#connect();
    }, delay);
    // Keep the process alive only while commands are waiting for the connection.
    if (this.#waiting.length === 0) this.#retryTimer.unref?.();
  }
}

/** A client for process.env.REDIS_URL (default redis://localhost:6379). */
export function createClient(url = process.env.REDIS_URL || 'redis://localhost:6379', options = {}) {
  return new RedisClient({ ...options, url });
}

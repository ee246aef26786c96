// berth's static site server: serves an app declared with `static: ./dist`.
//
// Usage: node static-server.js <root dir>      (listens on $PORT, default 3000)
//
// This file is copied verbatim into app images and also run as a host process,
// so it stays one plain-JavaScript file with no dependencies outside node:
// built-ins, and uses nothing newer than Node 18. It has no import/export
// statements (built-ins come in through import()), which makes it both a valid
// ES module and a valid CommonJS script: it runs whatever package.json happens
// to sit above the copy, even on Nodes that do not detect module syntax.
//
// Caching is the reason this server exists: after a redeploy, browsers must
// see the new HTML at once, while content-hashed assets may be cached forever.
//   - HTML:                   Cache-Control: no-cache  (+ strong ETag)
//   - fingerprinted assets:   Cache-Control: public, max-age=31536000, immutable
//   - everything else:        Cache-Control: public, max-age=0, must-revalidate (+ ETag)
// ETags are SHA-1 hashes of the bytes served, so a revalidation against a new
// release always sees new content, and an unchanged file (or a rollback to
// identical bytes) still gets its 304.

'use strict';

// Filled in by loadBuiltins() before anything else runs.
/** @type {typeof import('node:http')} */ let http;
/** @type {typeof import('node:crypto')} */ let crypto;
/** @type {typeof import('node:fs')} */ let fs;
/** @type {typeof import('node:fs').promises} */ let fsp;
/** @type {typeof import('node:stream').pipeline} */ let pipeline;
/** @type {typeof import('node:path')} */ let path;

async function loadBuiltins() {
  [http, crypto, fs, path] = await Promise.all([import('node:http'), import('node:crypto'), import('node:fs'), import('node:path')]);
  ({ pipeline } = await import('node:stream'));
  fsp = fs.promises;
}

const HEALTH_PATH = '/__berth/health';
const KEEP_ALIVE_MS = 65_000;
const SHUTDOWN_LIMIT_MS = 10_000;
const ETAG_CACHE_LIMIT = 10_000;

const CACHE_HTML = 'no-cache';
const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
const CACHE_REVALIDATE = 'public, max-age=0, must-revalidate';

/** @type {Record<string, string>} */
const CONTENT_TYPES = {
  html: 'text/html', htm: 'text/html', css: 'text/css',
  js: 'text/javascript', mjs: 'text/javascript',
  json: 'application/json', map: 'application/json', webmanifest: 'application/manifest+json',
  txt: 'text/plain', md: 'text/markdown', csv: 'text/csv', xml: 'application/xml',
  svg: 'image/svg+xml', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif',
  webp: 'image/webp', avif: 'image/avif', ico: 'image/x-icon',
  woff: 'font/woff', woff2: 'font/woff2', ttf: 'font/ttf', otf: 'font/otf',
  wasm: 'application/wasm', pdf: 'application/pdf',
  mp4: 'video/mp4', webm: 'video/webm', mp3: 'audio/mpeg', wav: 'audio/wav',
};

/** Types that are text even though they are not text/*; they get a charset too. */
const TEXTUAL = new Set(['application/json', 'application/manifest+json', 'application/xml', 'image/svg+xml']);

/** Precompressed variants, best first when the client rates them equally. */
const ENCODINGS = [
  { coding: 'br', suffix: '.br' },
  { coding: 'gzip', suffix: '.gz' },
];

/** @param {string} fileName */
function contentTypeFor(fileName) {
  const dot = fileName.lastIndexOf('.');
  const type = dot < 0 ? undefined : CONTENT_TYPES[fileName.slice(dot + 1).toLowerCase()];
  if (!type) return 'application/octet-stream';
  return type.startsWith('text/') || TEXTUAL.has(type) ? `${type}; charset=utf-8` : type;
}

/**
 * Whether a file name carries a content hash, so its URL changes whenever its
 * bytes do and it may be cached for a year. Only the file name counts, never
 * its directories. The rule:
 *   1. Drop the final extension: `app.3f2a1b9c.js` -> stem `app.3f2a1b9c`.
 *   2. The candidate hash is the stem's last segment:
 *        - if the stem contains a '.', the text after its last '.', made of
 *          [A-Za-z0-9_-]  (`chunk.abcdef1234567890`, `index.B-x_9aQz`);
 *        - otherwise the text after its last '-', made of [A-Za-z0-9_]
 *          (`main-BcD3f9aQ`); a '-' inside such a hash cannot be told apart
 *          from the separator, so those names are simply not recognised.
 *   3. The candidate must be at least 8 characters long, contain at least one
 *      ASCII digit and at least one ASCII letter, and not be image dimensions
 *      like `1920x1080`.
 * Mistakes are asymmetric: a missed hash costs a cheap 304, a false one serves
 * a stale file for a year, so the rule leans towards saying no (the '-' rule
 * keeps `font-awesome-2024.css` and `hero-1920x1080.jpg` out).
 * @param {string} fileName
 */
function isFingerprinted(fileName) {
  const dot = fileName.lastIndexOf('.');
  if (dot <= 0) return false;
  const stem = fileName.slice(0, dot);
  const lastDot = stem.lastIndexOf('.');
  const candidate = lastDot >= 0 ? stem.slice(lastDot + 1) : stem.slice(stem.lastIndexOf('-') + 1);
  if (lastDot < 0 && candidate === stem) return false; // no separator at all
  const charset = lastDot >= 0 ? /^[A-Za-z0-9_-]{8,}$/ : /^[A-Za-z0-9_]{8,}$/;
  return charset.test(candidate) && /[0-9]/.test(candidate) && /[A-Za-z]/.test(candidate) && !/^[0-9]+x[0-9]+$/.test(candidate);
}

/**
 * HTML is an entry point whose URL never changes, so it is always revalidated,
 * even if its name looks hashed.
 * @param {string} fileName @param {string} contentType
 */
function cacheControlFor(fileName, contentType) {
  if (contentType.startsWith('text/html')) return CACHE_HTML;
  return isFingerprinted(fileName) ? CACHE_IMMUTABLE : CACHE_REVALIDATE;
}

// ---------------------------------------------------------------- requests

class HttpError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Turns the request target into a root-relative path ('' for the root, with a
 * trailing '/' kept), or throws a 400. The path is percent-decoded exactly once.
 * @param {string} rawPath the target without its query
 */
function toRelativePath(rawPath) {
  if (!rawPath.startsWith('/')) throw new HttpError(400, 'bad request target');
  let decoded;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    throw new HttpError(400, 'bad percent-encoding');
  }
  // A NUL truncates paths in some layers; a backslash is a separator on Windows.
  if (decoded.includes('\0') || decoded.includes('\\')) throw new HttpError(400, 'bad character in path');
  const relative = path.posix.normalize(decoded.replace(/^\/+/, '') || '.');
  if (relative === '..' || relative.startsWith('../')) throw new HttpError(400, 'path escapes the root');
  return relative === '.' || relative === './' ? '' : relative;
}

/** Dotfiles stay private (.env, .git/), except the /.well-known/ registry. @param {string} relative */
function isHidden(relative) {
  const segments = relative.split('/');
  return segments.some((s, i) => s.startsWith('.') && !(i === 0 && s === '.well-known'));
}

/** Splits "a/b c" into an encoded absolute URL path, so a redirect can never become `//host`. @param {string} relative */
function toUrlPath(relative) {
  return '/' + relative.split('/').map(encodeURIComponent).join('/');
}

// ---------------------------------------------------------------- files

const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG', 'EACCES', 'EPERM']);

/**
 * Resolves symlinks and checks the result is still inside the root, so a link
 * pointing outside (or at a dotfile) is treated as missing.
 * @param {string} root real path of the root @param {string} relative
 * @returns {Promise<{ real: string, stat: import('node:fs').Stats } | undefined>}
 */
async function lookup(root, relative) {
  try {
    const real = await fsp.realpath(path.join(root, relative));
    const inside = path.relative(root, real);
    if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) return undefined;
    if (isHidden(inside.split(path.sep).join('/'))) return undefined;
    return { real, stat: await fsp.stat(real) };
  } catch (error) {
    if (NOT_FOUND_CODES.has(/** @type {NodeJS.ErrnoException} */ (error).code ?? '')) return undefined;
    throw error;
  }
}

/** @param {string} root @param {string} relative */
async function lookupFile(root, relative) {
  const found = await lookup(root, relative);
  return found && found.stat.isFile() ? found : undefined;
}

/**
 * Maps a request path to a file, a redirect, or nothing, following the
 * resolution table: '' and 'dir/' -> index.html; 'x' -> x, x.html, or a 308
 * to 'x/' when x is a directory with an index.html.
 * @param {string} root @param {string} relative
 * @returns {Promise<{ file: { real: string, stat: import('node:fs').Stats } } | { redirect: string } | undefined>}
 */
async function resolve(root, relative) {
  if (relative === '' || relative.endsWith('/')) {
    const file = await lookupFile(root, relative + 'index.html');
    return file && { file };
  }
  const exact = await lookup(root, relative);
  if (exact && exact.stat.isFile()) return { file: exact };
  const html = await lookupFile(root, relative + '.html');
  if (html) return { file: html };
  // Redirecting keeps relative links inside the directory's index.html working.
  if (exact && exact.stat.isDirectory() && (await lookupFile(root, relative + '/index.html'))) return { redirect: relative + '/' };
  return undefined;
}

/** Content hashes keyed by path, size, mtime and inode; insertion order gives a cheap eviction order. */
const etags = new Map();

/**
 * Strong ETag of an open file, hashing it only the first time this version of
 * the file is seen. Reads through the handle that will also be streamed, so
 * the tag always describes the bytes sent.
 * @param {string} real @param {import('node:fs/promises').FileHandle} handle @param {import('node:fs').Stats} stat @param {string} tagSuffix
 */
async function etagOf(real, handle, stat, tagSuffix) {
  const key = `${real}\0${stat.size}\0${stat.mtimeMs}\0${stat.ino}`;
  let pending = etags.get(key);
  if (!pending) {
    pending = hashHandle(handle, stat.size);
    etags.set(key, pending);
    pending.catch(() => etags.delete(key));
    if (etags.size > ETAG_CACHE_LIMIT) etags.delete(etags.keys().next().value);
  }
  return `"${await pending}${tagSuffix}"`;
}

/** @param {import('node:fs/promises').FileHandle} handle @param {number} size */
async function hashHandle(handle, size) {
  const hash = crypto.createHash('sha1');
  const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(size, 1 << 16)));
  for (let position = 0; position < size; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
    if (bytesRead === 0) throw new Error('file shrank while hashing');
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('base64url');
}

// ---------------------------------------------------------------- negotiation

/**
 * The q-value the client gives each content coding ('*' included).
 * @param {string | undefined} header
 */
function acceptedCodings(header) {
  /** @type {Map<string, number>} */
  const codings = new Map();
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = q === undefined ? 1 : Number(q.slice(2));
    codings.set(name === 'x-gzip' ? 'gzip' : name, Number.isFinite(value) ? value : 0);
  }
  return codings;
}

/** @param {Map<string, number>} codings @param {string} coding */
function qualityOf(codings, coding) {
  return codings.get(coding) ?? codings.get('*') ?? 0;
}

/**
 * Picks the precompressed sibling to serve, if any. `vary` is true whenever a
 * sibling exists, even if this client gets the plain file, so shared caches
 * keep the variants apart.
 * @param {string} root @param {string} real @param {string | undefined} acceptEncoding
 */
async function chooseVariant(root, real, acceptEncoding) {
  const codings = acceptedCodings(acceptEncoding);
  const relative = path.relative(root, real);
  let vary = false;
  /** @type {{ coding: string, suffix: string, file: { real: string, stat: import('node:fs').Stats } } | undefined} */
  let best;
  for (const { coding, suffix } of ENCODINGS) {
    const file = await lookupFile(root, relative + suffix);
    if (!file) continue;
    vary = true;
    const q = qualityOf(codings, coding);
    if (q > 0 && (!best || q > qualityOf(codings, best.coding))) best = { coding, suffix, file };
  }
  return { vary, variant: best };
}

/**
 * If-None-Match per RFC 9110 13.1.2: weak comparison, so a W/ prefix is ignored.
 * @param {string} header @param {string} etag
 */
function etagMatches(header, etag) {
  if (header.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  for (const match of header.matchAll(/(?:W\/)?("[^"]*")/g)) if (match[1] === opaque) return true;
  return false;
}

/**
 * If-Modified-Since, matched exactly (as nginx does by default) rather than
 * "not newer": releases keep the mtimes they were built with, so after a
 * rollback an older file must not pass as "not modified" against a newer copy.
 * @param {string} header @param {Date} mtime
 */
function unmodifiedSince(header, mtime) {
  const since = Date.parse(header);
  return Number.isFinite(since) && Math.floor(mtime.getTime() / 1000) === Math.floor(since / 1000);
}

// ---------------------------------------------------------------- responses

/**
 * @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res
 * @param {number} status @param {Record<string, string | number>} headers @param {string} [body]
 */
function sendText(req, res, status, headers, body = '') {
  const bytes = Buffer.from(body);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': bytes.length, 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

/**
 * Sends one file with its caching headers, answering 304 when the client's
 * copy is current. Conditionals only apply to 200s, so the 404 page ignores them.
 * @param {string} root @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res
 * @param {string} real @param {number} status
 */
async function sendFile(root, req, res, real, status) {
  const name = path.basename(real);
  const contentType = contentTypeFor(name);
  const { vary, variant } = status === 200 ? await chooseVariant(root, real, req.headers['accept-encoding']) : { vary: false, variant: undefined };
  const handle = await fsp.open(variant ? variant.file.real : real, 'r');
  let streaming = false;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new HttpError(404, 'not a file');
    const etag = await etagOf(variant ? variant.file.real : real, handle, stat, variant ? `-${variant.coding}` : '');
    /** @type {Record<string, string | number>} */
    const headers = {
      'Cache-Control': cacheControlFor(name, contentType),
      'X-Content-Type-Options': 'nosniff',
    };
    if (status === 200) {
      headers['ETag'] = etag;
      headers['Last-Modified'] = stat.mtime.toUTCString();
    }
    if (vary) headers['Vary'] = 'Accept-Encoding';
    if (status === 200 && isNotModified(req, etag, stat.mtime)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    if (variant) headers['Content-Encoding'] = variant.coding;
    res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': stat.size });
    if (req.method === 'HEAD' || stat.size === 0) {
      res.end();
      return;
    }
    streaming = true;
    // `end` bounds the body to the Content-Length just sent, even if the file grows.
    pipeline(handle.createReadStream({ start: 0, end: stat.size - 1 }), res, (error) => {
      if (error && error.code !== 'ERR_STREAM_PREMATURE_CLOSE') logError(`sending ${real}`, error);
    });
  } finally {
    if (!streaming) await handle.close();
  }
}

/** @param {import('node:http').IncomingMessage} req @param {string} etag @param {Date} mtime */
function isNotModified(req, etag, mtime) {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) return etagMatches(ifNoneMatch, etag);
  const ifModifiedSince = req.headers['if-modified-since'];
  return ifModifiedSince !== undefined && unmodifiedSince(ifModifiedSince, mtime);
}

/**
 * @param {string} root @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res
 */
async function sendNotFound(root, req, res) {
  const page = await lookupFile(root, '404.html');
  if (page) return sendFile(root, req, res, page.real, 404);
  sendText(req, res, 404, { 'Cache-Control': CACHE_HTML }, 'not found\n');
}

/**
 * HTTP/1.1 servers must accept absolute-form targets (`GET http://host/x`);
 * only their path and query matter here.
 * @param {string} target
 */
function originForm(target) {
  if (!/^https?:\/\//i.test(target)) return target;
  try {
    const url = new URL(target);
    return url.pathname + url.search;
  } catch {
    return target; // rejected as a bad target later
  }
}

/**
 * @param {string} root @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res
 */
async function handle(root, req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendText(req, res, 405, { Allow: 'GET, HEAD' }, 'method not allowed\n');
  }
  const target = originForm(req.url ?? '');
  const queryAt = target.indexOf('?');
  const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
  const query = queryAt < 0 ? '' : target.slice(queryAt);
  if (rawPath === HEALTH_PATH) return sendText(req, res, 200, { 'Cache-Control': 'no-store' }, 'ok');

  const relative = toRelativePath(rawPath);
  if (isHidden(relative)) return sendNotFound(root, req, res);
  const found = await resolve(root, relative);
  if (!found) return sendNotFound(root, req, res);
  if ('redirect' in found) {
    return sendText(req, res, 308, { Location: toUrlPath(found.redirect) + query, 'Cache-Control': CACHE_REVALIDATE }, 'moved\n');
  }
  return sendFile(root, req, res, found.file.real, 200);
}

// ---------------------------------------------------------------- process

/** @param {string} what @param {unknown} error */
function logError(what, error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`static: error ${what}: ${message}`);
}

/** @param {string} message @returns {never} */
function die(message) {
  console.error(`static: ${message}`);
  process.exit(1);
}

/** @param {string | undefined} arg */
function rootFrom(arg) {
  if (!arg) die('usage: node static-server.js <root dir>');
  const absolute = path.resolve(arg);
  let real;
  try {
    real = fs.realpathSync(absolute);
  } catch {
    die(`root ${absolute} does not exist`);
  }
  if (!fs.statSync(real).isDirectory()) die(`root ${absolute} is not a directory`);
  return { absolute, real };
}

/** @param {string | undefined} value */
function portFrom(value) {
  if (value === undefined || value === '') return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) die(`PORT "${value}" is not a port number`);
  return port;
}

/**
 * Stops accepting connections, lets in-flight responses finish, closes idle
 * keep-alive connections (they would otherwise hold the process for 65 s),
 * and exits 0, at the latest after SHUTDOWN_LIMIT_MS.
 * @param {import('node:http').Server} server @param {Map<import('node:net').Socket, number>} sockets
 */
function installShutdown(server, sockets) {
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(0); // a second signal means "now"
    stopping = true;
    server.close(() => process.exit(0));
    for (const [socket, active] of sockets) if (active === 0) socket.destroy();
    setTimeout(() => {
      console.error(`static: shutdown limit reached, closing ${sockets.size} connection(s)`);
      process.exit(0);
    }, SHUTDOWN_LIMIT_MS).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return () => stopping;
}

async function main() {
  await loadBuiltins();
  const root = rootFrom(process.argv[2]);
  const port = portFrom(process.env.PORT);
  /** Requests in progress per connection, so shutdown can tell idle connections from busy ones. */
  const sockets = new Map();
  let stopping = () => false;

  const server = http.createServer((req, res) => {
    const socket = req.socket;
    sockets.set(socket, (sockets.get(socket) ?? 0) + 1);
    // Responses written during shutdown close their connection behind them.
    if (stopping()) res.setHeader('Connection', 'close');
    res.on('close', () => {
      const active = (sockets.get(socket) ?? 1) - 1;
      sockets.set(socket, active);
      if (stopping() && active === 0) socket.end();
    });
    handle(root.real, req, res).catch((error) => {
      if (error instanceof HttpError) {
        if (!res.headersSent) sendText(req, res, error.status, {}, `${error.message}\n`);
        return;
      }
      logError(`${req.method} ${req.url}`, error);
      if (res.headersSent) res.destroy();
      else sendText(req, res, 500, {}, 'internal error\n');
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1_000; // must outlast keep-alive, or idle sockets die mid-request
  server.on('connection', (socket) => {
    sockets.set(socket, 0);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('error', (error) => die(`cannot listen on port ${port}: ${error.message}`));
  stopping = installShutdown(server, sockets);
  // HOST as berth's runtimes set it: loopback for host processes (the proxy is the way in), all
  // interfaces in a container. Without it, Node binds '::' (IPv4 mapped) or 0.0.0.0.
  server.listen(port, process.env.HOST || undefined, () => {
    const address = server.address();
    console.log(`static: serving ${root.absolute} on ${typeof address === 'object' && address ? address.port : port}`);
  });
}

main().catch((error) => die(`cannot start: ${error instanceof Error ? error.message : String(error)}`));

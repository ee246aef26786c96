// The web process, the only one berth routes: the page at / and a forward of /api/* to the api process.
//   GET /          the page (public/index.html, public/app.js)
//   /api/<path>    forwarded to API_URL/<path>: method, path, query, body and status passed through;
//                  502 JSON when the api cannot be reached, 504 when it does not answer in time
//   GET /health    200 when the api answers its /health with 200, else 503
// Env: PORT (default 3000), API_URL (default http://api:4000), API_TIMEOUT_MS (default 15000).
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const port = Number(process.env.PORT || 3000);
const apiUrl = new URL(process.env.API_URL || 'http://api:4000');
const apiBase = apiUrl.pathname.replace(/\/+$/, '');
const apiTimeout = Number(process.env.API_TIMEOUT_MS) || 15_000;
const transport = apiUrl.protocol === 'https:' ? https : http;
const agent = new transport.Agent({ keepAlive: true, maxSockets: 100, timeout: 60_000 });

// Headers that describe one connection, not the message: never forwarded (RFC 9110 section 7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function endToEnd(headers) {
  const named = String(headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim());
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && !named.includes(name) && value !== undefined) out[name] = value;
  }
  return out;
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

// --- static files: read once, served with an ETag and `no-cache`, so a new release is never shadowed by
// --- a cached copy of the old page.
function asset(file, type) {
  const body = readFileSync(new URL(`./public/${file}`, import.meta.url));
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}
const assets = new Map([
  ['/', asset('index.html', 'text/html; charset=utf-8')],
  ['/index.html', asset('index.html', 'text/html; charset=utf-8')],
  ['/app.js', asset('app.js', 'text/javascript; charset=utf-8')],
]);

function serveAsset(req, res, file) {
  const headers = {
    'content-type': file.type,
    etag: file.etag,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'",
  };
  if (req.headers['if-none-match'] === file.etag) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': file.body.length });
  res.end(req.method === 'HEAD' ? undefined : file.body);
}

// --- the forward to the api
function forward(req, res) {
  let rest = req.url.slice('/api'.length);
  if (!rest.startsWith('/')) rest = `/${rest}`;
  const headers = endToEnd(req.headers);
  headers.host = apiUrl.host;
  const client = req.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${client}` : client;
  headers['x-forwarded-host'] ??= req.headers.host ?? '';
  headers['x-forwarded-proto'] ??= req.socket.encrypted ? 'https' : 'http';

  const upstream = transport.request({
    protocol: apiUrl.protocol,
    hostname: apiUrl.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: apiUrl.port || (apiUrl.protocol === 'https:' ? 443 : 80),
    method: req.method,
    path: apiBase + rest,
    headers,
    agent,
  });
  upstream.setTimeout(apiTimeout, () => upstream.destroy(Object.assign(new Error(`no answer within ${apiTimeout} ms`), { code: 'ETIMEDOUT' })));

  upstream.on('response', (up) => {
    res.writeHead(up.statusCode ?? 502, up.statusMessage, endToEnd(up.headers));
    up.pipe(res);
    up.on('error', () => res.destroy());
  });
  upstream.on('error', (error) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const timedOut = error.code === 'ETIMEDOUT';
    console.error(`web: ${req.method} ${req.url} -> ${apiUrl.origin}${apiBase}${rest} failed: ${error.code ?? ''} ${error.message}`);
    sendJson(res, timedOut ? 504 : 502, {
      error: timedOut ? 'the API did not answer in time' : 'the API is unavailable',
      detail: `${error.code ?? 'error'}: ${error.message}`,
    });
  });
  // The browser gave up: stop the upstream request too.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

function checkApi() {
  return new Promise((resolve) => {
    const probe = transport.get(
      { protocol: apiUrl.protocol, hostname: apiUrl.hostname.replace(/^\[(.*)\]$/, '$1'), port: apiUrl.port || undefined, path: `${apiBase}/health`, agent, timeout: 2000 },
      (up) => {
        up.resume();
        up.on('end', () => resolve({ ok: up.statusCode === 200, api: up.statusCode }));
        up.on('error', (error) => resolve({ ok: false, api: error.message }));
      },
    );
    probe.on('timeout', () => probe.destroy(new Error('no answer within 2000 ms')));
    probe.on('error', (error) => resolve({ ok: false, api: `${error.code ?? 'error'}: ${error.message}` }));
  });
}

const server = http.createServer(async (req, res) => {
  const path = req.url.split('?', 1)[0];
  if (path === '/api' || path.startsWith('/api/')) return forward(req, res);
  if (path === '/health') {
    const { ok, api } = await checkApi();
    return sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', api });
  }
  const file = assets.get(path);
  if (file && (req.method === 'GET' || req.method === 'HEAD')) return serveAsset(req, res, file);
  sendJson(res, 404, { error: `no route ${req.method} ${path}` });
});

server.listen(port, () => console.log(`web listening on ${port}, forwarding /api/* to ${apiUrl.origin}${apiBase}`));

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`web: ${signal}, finishing requests in flight`);
  server.close(() => process.exit(0));
  server.closeIdleConnections?.();
  setTimeout(() => process.exit(0), 8000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

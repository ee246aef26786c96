import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { fail } from '../errors/catalogue.ts';
import type { Logger } from '../lib/log.ts';
import { guardRequestCallbacks } from './callback-guard.ts';
import { checkBody, checkNoBody, checkQuery } from './check-input.ts';
import type { ApiDeps } from './deps.ts';
import { errorStatus } from './error-status.ts';
import type { Operation } from './input-spec.ts';
import { ClientGoneError, readJsonBody, sendError } from './http.ts';
import { pathRedactor } from './redact-paths.ts';
import { runInRequestScope, type RequestScope } from './request-scope.ts';
import { Router, type Request } from './router.ts';
import { appRoutes } from './endpoints/apps.ts';
import { deployRoutes } from './endpoints/deploys.ts';
import { deploymentRoutes } from './endpoints/deployments.ts';
import { envRoutes } from './endpoints/env.ts';
import { accessLogRoutes, logRoutes } from './endpoints/logs.ts';
import { releaseRoutes } from './endpoints/releases.ts';
import { healthRoutes } from './endpoints/health.ts';
import { systemRoutes } from './endpoints/system.ts';
import { doctorRoutes } from './endpoints/doctor.ts';
import { runRoutes } from './endpoints/run.ts';
import { scaleRoutes } from './endpoints/scale.ts';
import { chaosRoutes } from './endpoints/chaos.ts';
import { rolloutRoutes } from './endpoints/rollouts.ts';
import { openApiRoutes } from './endpoints/openapi.ts';
import { registryRoutes } from './endpoints/registries.ts';
import { certRoutes } from './endpoints/certs.ts';
import { notifyRoutes } from './endpoints/notify.ts';
import { metricsRoutes } from './endpoints/metrics.ts';
import { eventRoutes } from './endpoints/events.ts';
import { policyRoutes } from './endpoints/policy.ts';

/** Every route of the control API. */
export function createRouter(deps: ApiDeps): Router {
  const router = new Router();
  systemRoutes(router, deps);
  appRoutes(router, deps);
  deployRoutes(router, deps);
  deploymentRoutes(router, deps);
  releaseRoutes(router, deps);
  healthRoutes(router, deps);
  envRoutes(router, deps);
  logRoutes(router, deps);
  accessLogRoutes(router, deps);
  scaleRoutes(router, deps);
  chaosRoutes(router, deps);
  rolloutRoutes(router, deps);
  runRoutes(router, deps);
  registryRoutes(router, deps);
  certRoutes(router, deps);
  notifyRoutes(router, deps);
  eventRoutes(router, deps);
  doctorRoutes(router, deps);
  metricsRoutes(router, deps);
  policyRoutes(router, deps);
  openApiRoutes(router);
  return router;
}

/**
 * The control API: JSON over HTTP, a bearer token on every endpoint, errors from the catalogue. Query
 * strings and JSON bodies are checked against each route's operation (./operations.ts) before its
 * handler runs. While it listens, errors thrown by a request's callbacks are logged instead of ending
 * the daemon (./callback-guard.ts).
 */
export function createApiServer(deps: ApiDeps): Server {
  const router = createRouter(deps);
  const log = deps.ctx.log.child({ component: 'api' });
  const redact = pathRedactor(deps.config.dataDir);

  const server = createServer((req, res) => {
    // A target that is no URL (`//[`) must not throw here, outside every catch.
    const url = URL.parse(`http://berth${req.url?.startsWith('/') ? req.url : `/${req.url ?? ''}`}`);
    const scope: RequestScope = { method: req.method ?? '?', path: url?.pathname ?? '(not a URL)', res, log, redact };
    runInRequestScope(scope, () => void handle(router, deps, { req, res, url, log }));
  });
  server.on('clientError', answerClientError);
  let unguard: (() => void) | undefined;
  server.on('listening', () => (unguard ??= guardRequestCallbacks(log)));
  server.on('close', () => {
    unguard?.();
    unguard = undefined;
  });
  server.requestTimeout = 0; // uploads and event streams run long; each handler bounds its own work (JSON bodies: 30 s)
  server.headersTimeout = 30_000;
  // Node's 5 s default closes idle connections just as clients (fetch keeps them 4 s, or the server's hint
  // minus 2 s) may send on them: a request in that window fails with "other side closed". A long timeout,
  // announced in the Keep-Alive header, leaves clients to close first.
  server.keepAliveTimeout = 65_000;
  return server;
}

async function handle(router: Router, deps: ApiDeps, call: { req: IncomingMessage; res: ServerResponse; url: URL | null; log: Logger }): Promise<void> {
  const { req, res, url, log } = call;
  const started = performance.now();
  res.on('finish', () => {
    log.debug('request', { method: req.method, path: url?.pathname, status: res.statusCode, ms: Math.round(performance.now() - started) });
  });
  try {
    authenticate(deps, req.headers.authorization);
    if (!url) throw fail('ROUTE_NOT_FOUND', { method: req.method ?? '?', path: '(not a URL)' });
    const match = router.match(req.method ?? 'GET', url.pathname);
    if (!match) throw fail('ROUTE_NOT_FOUND', { method: req.method ?? '?', path: url.pathname });
    if ('allowed' in match) {
      res.setHeader('allow', match.allowed.join(', '));
      throw fail('METHOD_NOT_ALLOWED', { method: req.method ?? '?', path: url.pathname, allowed: match.allowed });
    }
    const { operation } = match;
    const query = checkQuery(operation.query, url.searchParams);
    const body = await readBody(operation, req);
    // Typed per operation where the handler is registered (Router.on); here it is any operation's.
    await match.handler({ req, res, params: match.params, url, query: query as Request['query'], body: body as Request['body'] });
  } catch (error) {
    if (error instanceof ClientGoneError) {
      log.debug('client went away', { method: req.method, path: url?.pathname });
      res.destroy();
      return;
    }
    sendError(res, error, req);
  }
}

/** The checked JSON body; an upload's body is left to its handler. An endpoint without a body takes none. */
async function readBody(operation: Operation, req: IncomingMessage): Promise<unknown> {
  if (operation.archive) return Object.create(null);
  const raw = await readJsonBody(req, operation.bodyLimit);
  if (operation.body) return checkBody(operation.body, raw);
  checkNoBody(raw);
  return Object.create(null);
}

/**
 * Bytes Node's HTTP parser refuses (a broken chunk, Content-Length with Transfer-Encoding, headers too
 * large) never reach a handler; they get the same JSON error as everything else, then the connection
 * closes. A client that never finished its headers in time just loses the connection.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // As Node's own handler: answer only on a connection nothing was written to yet, never into another answer.
  const written = (socket as Duplex & { bytesWritten?: number }).bytesWritten ?? 0;
  if (!socket.writable || written > 0 || error.code === 'ECONNRESET' || error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    socket.destroy();
    return;
  }
  const code = /^[A-Z_]{1,40}$/.test(error.code ?? '') ? error.code : 'a parse error';
  const refusal = fail('REQUEST_INVALID', { issues: [{ path: '(http)', message: `is not a valid HTTP/1.1 request (${code})`, fix: 'send a well-formed HTTP/1.1 request' }] });
  const text = JSON.stringify({ error: refusal.toJSON() }) + '\n';
  socket.end(`HTTP/1.1 ${errorStatus.REQUEST_INVALID} Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
}

function authenticate(deps: ApiDeps, header: string | undefined): void {
  if (!header) throw fail('AUTH_REQUIRED');
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match || deps.ctx.store.tokens.verify(match[1]) === undefined) throw fail('AUTH_INVALID');
}

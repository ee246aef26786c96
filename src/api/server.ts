import { createServer, type Server } from 'node:http';
import { fail, isBerthError } from '../errors/catalogue.ts';
import type { ApiDeps } from './deps.ts';
import { sendError } from './http.ts';
import { Router } from './router.ts';
import { appRoutes } from './routes/apps.ts';
import { deployRoutes } from './routes/deploys.ts';
import { deploymentRoutes } from './routes/deployments.ts';
import { envRoutes } from './routes/env.ts';
import { logRoutes } from './routes/logs.ts';
import { releaseRoutes } from './routes/releases.ts';
import { systemRoutes } from './routes/system.ts';
import { doctorRoutes } from './routes/doctor.ts';
import { runRoutes } from './routes/run.ts';
import { scaleRoutes } from './routes/scale.ts';

/** The control API: JSON over HTTP, a bearer token on every endpoint, errors from the catalogue. */
export function createApiServer(deps: ApiDeps): Server {
  const router = new Router();
  systemRoutes(router, deps);
  appRoutes(router, deps);
  deployRoutes(router, deps);
  deploymentRoutes(router, deps);
  releaseRoutes(router, deps);
  envRoutes(router, deps);
  logRoutes(router, deps);
  scaleRoutes(router, deps);
  runRoutes(router, deps);
  doctorRoutes(router, deps);
  const log = deps.ctx.log.child({ component: 'api' });

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://berth');
    const started = performance.now();
    res.on('finish', () => {
      log.debug('request', { method: req.method, path: url.pathname, status: res.statusCode, ms: Math.round(performance.now() - started) });
    });
    try {
      authenticate(deps, req.headers.authorization);
      const match = router.match(req.method ?? 'GET', url.pathname);
      if (!match) throw fail('ROUTE_NOT_FOUND', { method: req.method ?? '?', path: url.pathname });
      if ('allowed' in match) {
        res.setHeader('allow', match.allowed.join(', '));
        throw fail('METHOD_NOT_ALLOWED', { method: req.method ?? '?', path: url.pathname, allowed: match.allowed });
      }
      await match.handler(req, res, match.params, url);
    } catch (error) {
      if (!isBerthError(error)) log.error('request failed', { method: req.method, path: url.pathname, error: error as Error, stack: (error as Error).stack });
      sendError(res, error, req);
    }
  });
  server.requestTimeout = 0; // uploads and event streams run long; each handler bounds its own work
  server.headersTimeout = 30_000;
  // Node's 5 s default closes idle connections just as clients (fetch keeps them 4 s, or the server's hint
  // minus 2 s) may send on them: a request in that window fails with "other side closed". A long timeout,
  // announced in the Keep-Alive header, leaves clients to close first.
  server.keepAliveTimeout = 65_000;
  return server;
}

function authenticate(deps: ApiDeps, header: string | undefined): void {
  if (!header) throw fail('AUTH_REQUIRED');
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match || deps.ctx.store.tokens.verify(match[1]) === undefined) throw fail('AUTH_INVALID');
}
